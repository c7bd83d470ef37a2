//! The cells to run: every assignment of the dimensions times every probe,
//! in a fixed order (probe-major, assignments counting up from all-false)
//! so reports are deterministic whatever the parallelism.

use super::expect::{compile, ProbeSpec};

/// More axes than this would be a matrix nobody can run (2^16 configs).
pub const MAX_DIMENSIONS: usize = 16;

#[derive(Debug, Clone)]
pub struct Plan {
    pub dimensions: Vec<String>,
    /// `assignments[c][d]`: dimension `d` in config `c`.
    pub assignments: Vec<Vec<bool>>,
    pub probes: Vec<ProbeSpec>,
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
        })
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
