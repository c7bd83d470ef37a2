//! Strict escapers for values spliced into SBPL text.
