//! t-wise covering arrays over boolean dimensions.
//!
//! With n boolean dimensions the full product has 2^n configs. A t-wise
//! covering array is a much smaller set of configs in which every
//! combination of values of every t dimensions appears at least once; most
//! interaction bugs need only two or three options to line up, so it finds
//! them at a fraction of the cost. The configs are chosen from the allowed
//! set (what `--configs` kept), so a combination that no allowed config has
//! is not required.
//!
//! The construction is greedy and deterministic: repeatedly take the
//! allowed config that covers the most combinations not yet covered (ties:
//! the earliest in report order). It is not minimal, but it is complete by
//! construction: every round covers at least one combination still
//! missing, and it ends only when none is.

/// How many dimensions must line up for a combination to count.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Strength {
    Two,
    Three,
}

impl Strength {
    pub fn t(self) -> usize {
        match self {
            Strength::Two => 2,
            Strength::Three => 3,
        }
    }
}

/// Every `t`-subset of `0..n`, ascending.
fn subsets(n: usize, t: usize) -> Vec<Vec<usize>> {
    fn go(start: usize, n: usize, t: usize, cur: &mut Vec<usize>, out: &mut Vec<Vec<usize>>) {
        if cur.len() == t {
            out.push(cur.clone());
            return;
        }
        for i in start..n {
            cur.push(i);
            go(i + 1, n, t, cur, out);
            cur.pop();
        }
    }
    let mut out = Vec::new();
    go(0, n, t, &mut Vec::new(), &mut out);
    out
}

/// The combinations a config has, as indices into a table of
/// `subsets * 2^t` slots: the subset's index times 2^t plus its values.
fn combos<'a>(row: &'a [bool], sets: &'a [Vec<usize>]) -> impl Iterator<Item = usize> + 'a {
    let width = 1usize << sets.first().map_or(0, Vec::len);
    sets.iter().enumerate().map(move |(i, set)| {
        let pattern = set.iter().fold(0, |acc, &d| acc << 1 | usize::from(row[d]));
        i * width + pattern
    })
}

/// Configs scored per round of the greedy construction.
const CANDIDATES: usize = 1024;

/// Indices of the configs scored in round `round`: all of them when there
/// are few, else [`CANDIDATES`] spread by an odd multiplier (a plain stride
/// would keep the low dimensions of a product constant).
fn sample(len: usize, round: usize) -> Box<dyn Iterator<Item = usize>> {
    if len <= CANDIDATES {
        return Box::new(0..len);
    }
    const SPREAD: usize = 0x9E37_79B1;
    Box::new(
        (0..CANDIDATES)
            .map(move |k| (k.wrapping_add(round * CANDIDATES)).wrapping_mul(SPREAD) % len),
    )
}

/// A config that has the first combination still missing (one exists: the
/// missing combinations are drawn from the allowed configs).
fn surely_gaining(allowed: &[Vec<bool>], sets: &[Vec<usize>], missing: &[bool], t: usize) -> usize {
    let c = missing.iter().position(|&m| m).unwrap_or(0);
    let (set, pattern) = (&sets[c >> t], c & ((1 << t) - 1));
    allowed
        .iter()
        .position(|row| {
            set.iter()
                .enumerate()
                .all(|(k, &d)| row[d] == (pattern >> (t - 1 - k) & 1 == 1))
        })
        .unwrap_or(0)
}

/// The indices (into `allowed`, ascending) of a t-wise covering array of
/// `allowed`. With fewer than `t` dimensions every allowed config is kept
/// (nothing smaller covers them).
pub fn covering_rows(allowed: &[Vec<bool>], strength: Strength) -> Vec<usize> {
    let n = allowed.first().map_or(0, Vec::len);
    let t = strength.t();
    if n < t {
        return (0..allowed.len()).collect();
    }
    let sets = subsets(n, t);
    let mut missing = vec![false; sets.len() << t];
    for row in allowed {
        for c in combos(row, &sets) {
            missing[c] = true;
        }
    }
    let mut left = missing.iter().filter(|&&m| m).count();
    let mut chosen = Vec::new();
    while left > 0 {
        // Scoring every config of a 16-dimension product each round would
        // cost seconds; a rotating sample plus one config that surely gains
        // keeps rounds bounded and the result complete.
        let sure = surely_gaining(allowed, &sets, &missing, t);
        let mut best = (0, sure);
        for i in sample(allowed.len(), chosen.len()).chain([sure]) {
            let gain = combos(&allowed[i], &sets).filter(|&c| missing[c]).count();
            if gain > best.0 {
                best = (gain, i);
            }
        }
        for c in combos(&allowed[best.1], &sets) {
            if std::mem::replace(&mut missing[c], false) {
                left -= 1;
            }
        }
        chosen.push(best.1);
    }
    chosen.sort_unstable();
    chosen
}

#[cfg(test)]
mod tests {
    use super::*;

    fn product(n: usize) -> Vec<Vec<bool>> {
        (0..1usize << n)
            .map(|i| (0..n).map(|d| i >> (n - 1 - d) & 1 == 1).collect())
            .collect()
    }

    /// Checked independently of the construction: for every t dimensions,
    /// every value pattern some allowed config has, a chosen one has.
    fn covers(allowed: &[Vec<bool>], rows: &[usize], t: usize) -> bool {
        let n = allowed[0].len();
        subsets(n, t).iter().all(|set| {
            let pattern = |row: &Vec<bool>| set.iter().map(|&d| row[d]).collect::<Vec<_>>();
            let wanted: std::collections::BTreeSet<_> = allowed.iter().map(pattern).collect();
            let have: std::collections::BTreeSet<_> =
                rows.iter().map(|&r| pattern(&allowed[r])).collect();
            wanted == have
        })
    }

    #[test]
    fn seven_dimensions_pairwise_and_three_wise() {
        let all = product(7);
        let two = covering_rows(&all, Strength::Two);
        let three = covering_rows(&all, Strength::Three);
        assert!(covers(&all, &two, 2));
        assert!(covers(&all, &three, 3));
        // Pairwise over 7 booleans needs at least 4 rows and a greedy array
        // stays far below the 128 of the product.
        assert!((4..=10).contains(&two.len()), "{}", two.len());
        assert!((8..=24).contains(&three.len()), "{}", three.len());
    }

    #[test]
    fn twelve_dimensions_stay_small_and_complete() {
        let all = product(12);
        let three = covering_rows(&all, Strength::Three);
        assert!(covers(&all, &three, 3));
        assert!(three.len() < 60, "{}", three.len());
    }

    #[test]
    fn a_restricted_set_only_needs_what_it_has() {
        // Only configs where dimension 0 is on: (0=off, x) can never be
        // covered and is not required.
        let allowed: Vec<Vec<bool>> = product(5).into_iter().filter(|r| r[0]).collect();
        let rows = covering_rows(&allowed, Strength::Two);
        assert!(covers(&allowed, &rows, 2));
        assert!(rows.iter().all(|&r| allowed[r][0]));
    }

    #[test]
    fn dropping_any_row_of_a_small_array_loses_a_combination() {
        let all = product(3);
        let rows = covering_rows(&all, Strength::Three);
        assert_eq!(rows.len(), 8, "3-wise over 3 dimensions is the product");
        for skip in 0..rows.len() {
            let fewer: Vec<usize> = rows
                .iter()
                .enumerate()
                .filter(|&(i, _)| i != skip)
                .map(|(_, &r)| r)
                .collect();
            assert!(!covers(&all, &fewer, 3));
        }
    }

    #[test]
    fn fourteen_dimensions_pairwise_stays_small() {
        let all = product(14);
        let two = covering_rows(&all, Strength::Two);
        assert!(covers(&all[..], &two, 2));
        assert!(two.len() < 30, "{}", two.len());
    }

    #[test]
    fn fewer_dimensions_than_strength_keep_everything() {
        let all = product(1);
        assert_eq!(covering_rows(&all, Strength::Three), vec![0, 1]);
        assert_eq!(covering_rows(&[vec![]], Strength::Two), vec![0]);
    }
}
