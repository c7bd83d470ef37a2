//! The cells to run: the chosen assignments of the dimensions times every
//! probe, in a fixed order (probe-major, assignments counting up from
//! all-false) so reports are deterministic whatever the parallelism.
//!
//! Which assignments: every one (the full product) while the matrix stays
//! within [`CELL_BUDGET`], else a t-wise covering array (`--cover`).

use super::cover::{covering_rows, Strength};
use super::expect::{compile, ProbeSpec};

/// More axes than this would be a matrix nobody can run (2^16 configs).
pub const MAX_DIMENSIONS: usize = 16;

/// The most cells `--cover auto` (the default) runs as a full product:
/// today's 14 probes over 7 dimensions are 1,792. Beyond it, `auto` runs a
/// 3-wise covering array.
pub const CELL_BUDGET: usize = 4096;

/// How the configs were chosen; the report says which.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Coverage {
    /// Every combination the `--configs` filter kept.
    Full,
    /// Every combination of values of any t dimensions appears at least
    /// once (among those the filter kept).
    Covering(Strength),
}

impl Coverage {
    /// The report's name for it (`meta.coverage`).
    pub fn label(self) -> &'static str {
        match self {
            Coverage::Full => "full",
            Coverage::Covering(Strength::Two) => "2-wise",
            Coverage::Covering(Strength::Three) => "3-wise",
        }
    }
}

/// What `--cover` asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CoverChoice {
    /// Full while within [`CELL_BUDGET`], else 3-wise.
    Auto,
    Exactly(Coverage),
}

impl std::str::FromStr for CoverChoice {
    type Err = String;
    fn from_str(s: &str) -> Result<CoverChoice, String> {
        match s {
            "auto" => Ok(CoverChoice::Auto),
            "full" => Ok(CoverChoice::Exactly(Coverage::Full)),
            "2" => Ok(CoverChoice::Exactly(Coverage::Covering(Strength::Two))),
            "3" => Ok(CoverChoice::Exactly(Coverage::Covering(Strength::Three))),
            other => Err(format!("--cover: {other:?} is not one of auto, full, 2, 3")),
        }
    }
}

#[derive(Debug, Clone)]
pub struct Plan {
    pub dimensions: Vec<String>,
    /// `assignments[c][d]`: dimension `d` in config `c`.
    pub assignments: Vec<Vec<bool>>,
    pub probes: Vec<ProbeSpec>,
    pub coverage: Coverage,
}

/// One cell's coordinates in a [`Plan`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CellIndex {
    pub probe: usize,
    pub config: usize,
}

impl Plan {
    /// Plans every combination. `only` keeps the listed probes (in the
    /// expectations' order); a name not in the expectations is an error.
    pub fn new(
        dimensions: Vec<String>,
        probes: &[ProbeSpec],
        only: Option<&[String]>,
    ) -> Result<Plan, String> {
        if dimensions.len() > MAX_DIMENSIONS {
            return Err(format!(
                "{} dimensions: at most {MAX_DIMENSIONS} are supported",
                dimensions.len()
            ));
        }
        let probes = match only {
            None => probes.to_vec(),
            Some(names) => {
                if let Some(bad) = names.iter().find(|n| !probes.iter().any(|p| &p.name == *n)) {
                    let known: Vec<&str> = probes.iter().map(|p| p.name.as_str()).collect();
                    return Err(format!(
                        "--probes: {bad:?} has no expectation (known: {})",
                        known.join(", ")
                    ));
                }
                probes
                    .iter()
                    .filter(|p| names.contains(&p.name))
                    .cloned()
                    .collect()
            }
        };
        let n = dimensions.len();
        let assignments = (0..1usize << n)
            .map(|i| (0..n).map(|d| i >> (n - 1 - d) & 1 == 1).collect())
            .collect();
        Ok(Plan {
            dimensions,
            assignments,
            probes,
            coverage: Coverage::Full,
        })
    }

    /// Chooses the configs to run among those kept so far (call after
    /// [`Plan::restrict`]).
    pub fn cover(&mut self, choice: CoverChoice) {
        let coverage = match choice {
            CoverChoice::Exactly(c) => c,
            CoverChoice::Auto if self.cells().len() <= CELL_BUDGET => Coverage::Full,
            CoverChoice::Auto => Coverage::Covering(Strength::Three),
        };
        if let Coverage::Covering(strength) = coverage {
            let rows = covering_rows(&self.assignments, strength);
            self.assignments = rows
                .into_iter()
                .map(|i| self.assignments[i].clone())
                .collect();
        }
        self.coverage = coverage;
    }

    /// Keeps only the configs where `filter` (an expression over the
    /// dimension names) holds; an error names the column of a bad token.
    pub fn restrict(&mut self, filter: &str) -> Result<(), String> {
        let expr = compile(filter, &self.dimensions)
            .map_err(|(col, msg)| format!("--configs: column {col}: {msg}"))?;
        self.assignments.retain(|bits| expr.eval(bits));
        if self.assignments.is_empty() {
            return Err(format!("--configs: {filter:?} selects no config"));
        }
        Ok(())
    }

    /// All cells, in report order.
    pub fn cells(&self) -> Vec<CellIndex> {
        (0..self.probes.len())
            .flat_map(|probe| {
                (0..self.assignments.len()).map(move |config| CellIndex { probe, config })
            })
            .collect()
    }

    /// The spec's answer for a cell.
    pub fn expected(&self, cell: CellIndex) -> bool {
        self.probes[cell.probe]
            .allowed_when
            .eval(&self.assignments[cell.config])
    }

    /// Whether the expectation for `cell` changes when dimension `d` flips:
    /// only then can an observation speak to that dimension.
    pub fn hinges_on(&self, cell: CellIndex, d: usize) -> bool {
        let mut flipped = self.assignments[cell.config].clone();
        flipped[d] = !flipped[d];
        self.probes[cell.probe].allowed_when.eval(&flipped) != self.expected(cell)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(name: &str, expr: &str, dims: &[String]) -> ProbeSpec {
        ProbeSpec {
            name: name.into(),
            source: expr.into(),
            allowed_when: compile(expr, dims).unwrap(),
            args: vec![],
        }
    }

    #[test]
    fn every_combination_once_in_order() {
        let dims: Vec<String> = vec!["a".into(), "b".into(), "c".into()];
        let probes = vec![spec("p", "a", &dims), spec("q", "b || c", &dims)];
        let plan = Plan::new(dims, &probes, None).unwrap();
        assert_eq!(plan.assignments.len(), 8);
        assert_eq!(plan.assignments[0], vec![false, false, false]);
        assert_eq!(plan.assignments[1], vec![false, false, true]);
        assert_eq!(plan.assignments[7], vec![true, true, true]);
        let mut seen = plan.assignments.clone();
        seen.sort();
        seen.dedup();
        assert_eq!(seen.len(), 8);
        let cells = plan.cells();
        assert_eq!(cells.len(), 16);
        assert_eq!(
            cells[8],
            CellIndex {
                probe: 1,
                config: 0
            }
        );
        assert!(plan.hinges_on(
            CellIndex {
                probe: 1,
                config: 1
            },
            2
        ));
        assert!(!plan.hinges_on(
            CellIndex {
                probe: 1,
                config: 3
            },
            2
        ));
    }

    #[test]
    fn auto_covers_fully_within_the_budget_and_three_wise_beyond() {
        let dims: Vec<String> = (0..7).map(|i| format!("d{i}")).collect();
        let probes: Vec<ProbeSpec> = (0..14)
            .map(|i| spec(&format!("p{i}"), "d0", &dims))
            .collect();
        let mut plan = Plan::new(dims.clone(), &probes, None).unwrap();
        plan.cover(CoverChoice::Auto);
        assert_eq!(plan.coverage, Coverage::Full);
        assert_eq!(plan.cells().len(), 14 * 128);

        let many: Vec<String> = (0..12).map(|i| format!("d{i}")).collect();
        let mut plan = Plan::new(many, &probes[..2], None).unwrap();
        assert!(plan.cells().len() > CELL_BUDGET);
        plan.cover(CoverChoice::Auto);
        assert_eq!(plan.coverage.label(), "3-wise");
        assert!(plan.cells().len() < 2 * 60, "{}", plan.cells().len());

        let mut plan = Plan::new(dims, &probes, None).unwrap();
        plan.restrict("d1").unwrap();
        plan.cover("2".parse().unwrap());
        assert_eq!(plan.coverage.label(), "2-wise");
        assert!(plan.assignments.iter().all(|a| a[1]));
        assert!(plan.assignments.len() < 64);
    }

    #[test]
    fn cover_values_are_named_when_wrong() {
        let e = "4".parse::<CoverChoice>().unwrap_err();
        assert!(e.contains("--cover") && e.contains("\"4\""), "{e}");
        assert_eq!(
            "full".parse::<CoverChoice>(),
            Ok(CoverChoice::Exactly(Coverage::Full))
        );
    }

    #[test]
    fn probe_filter_names_unknown_probes() {
        let dims: Vec<String> = vec!["a".into()];
        let probes = vec![spec("p", "a", &dims)];
        let e = Plan::new(dims.clone(), &probes, Some(&["zz".to_string()])).unwrap_err();
        assert!(e.contains("\"zz\""), "{e}");
        assert_eq!(
            Plan::new(vec![], &probes[..0], None).unwrap().assignments,
            vec![Vec::<bool>::new()]
        );
    }
}
