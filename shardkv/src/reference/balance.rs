//! Rebalancing: which group serves each shard after groups join or leave.
//!
//! Deterministic (every controller replica computes the same configuration from the same
//! log, so nothing here may depend on map iteration order or randomness) and minimal: a
//! shard moves only if its group left or holds more than its share.

use std::collections::BTreeMap;

use crate::{Gid, NSHARDS};

/// Reassigns `shards` among `groups`: every shard to a group that exists, each group
/// `NSHARDS / groups` or one more shards, moving as few shards as possible. With no groups,
/// every shard goes to group 0.
pub(crate) fn rebalance(shards: &mut [Gid; NSHARDS], groups: &BTreeMap<Gid, Vec<String>>) {
    if groups.is_empty() {
        *shards = [0; NSHARDS];
        return;
    }
    // What each remaining group holds now; the rest (group 0's, or a departed group's)
    // must move.
    let mut held: BTreeMap<Gid, Vec<usize>> = groups.keys().map(|&gid| (gid, Vec::new())).collect();
    let mut unowned = Vec::new();
    for (shard, gid) in shards.iter().enumerate() {
        match held.get_mut(gid) {
            Some(list) => list.push(shard),
            None => unowned.push(shard),
        }
    }
    // The groups holding the most keep the most: the first `extra` groups in this order
    // get one shard more than the others. Ties go to the smaller gid.
    let mut order: Vec<Gid> = held.keys().copied().collect();
    order.sort_by_key(|gid| (std::cmp::Reverse(held[gid].len()), *gid));
    let base = NSHARDS / order.len();
    let extra = NSHARDS % order.len();
    let target = |rank: usize| base + usize::from(rank < extra);
    // Groups over their share give up their highest shards...
    for (rank, gid) in order.iter().enumerate() {
        let list = held.get_mut(gid).expect("every group is held");
        while list.len() > target(rank) {
            unowned.push(list.pop().expect("over its share, so not empty"));
        }
    }
    unowned.sort_unstable();
    // ... and groups under it take the lowest free ones.
    let mut free = unowned.into_iter();
    for (rank, gid) in order.iter().enumerate() {
        let list = held.get_mut(gid).expect("every group is held");
        while list.len() < target(rank) {
            let shard = free.next().expect("the shares add up to NSHARDS");
            shards[shard] = *gid;
            list.push(shard);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn groups(gids: &[Gid]) -> BTreeMap<Gid, Vec<String>> {
        gids.iter().map(|&g| (g, vec![format!("{g}")])).collect()
    }

    fn counts(shards: &[Gid; NSHARDS]) -> BTreeMap<Gid, usize> {
        let mut counts = BTreeMap::new();
        for &g in shards {
            *counts.entry(g).or_default() += 1;
        }
        counts
    }

    #[test]
    fn first_group_takes_every_shard() {
        let mut shards = [0; NSHARDS];
        rebalance(&mut shards, &groups(&[7]));
        assert_eq!(shards, [7; NSHARDS]);
    }

    #[test]
    fn joins_move_only_what_the_new_group_needs() {
        let mut shards = [0; NSHARDS];
        rebalance(&mut shards, &groups(&[1]));
        rebalance(&mut shards, &groups(&[1, 2]));
        assert_eq!(counts(&shards), BTreeMap::from([(1, 5), (2, 5)]));
        let before = shards;
        rebalance(&mut shards, &groups(&[1, 2, 3]));
        let moved = (0..NSHARDS).filter(|&s| before[s] != shards[s]).count();
        assert_eq!(moved, 3);
        assert!(counts(&shards).values().all(|&c| c == 3 || c == 4));
        assert!((0..NSHARDS).all(|s| shards[s] == before[s] || shards[s] == 3));
    }

    #[test]
    fn leaves_move_only_the_departed_groups_shards() {
        let mut shards = [0; NSHARDS];
        rebalance(&mut shards, &groups(&[1, 2, 3]));
        let before = shards;
        rebalance(&mut shards, &groups(&[1, 3]));
        assert!((0..NSHARDS).all(|s| before[s] == 2 || shards[s] == before[s]));
        assert_eq!(
            counts(&shards).values().copied().collect::<Vec<_>>(),
            [5, 5]
        );
    }

    #[test]
    fn more_groups_than_shards_leaves_some_idle() {
        let gids: Vec<Gid> = (1..=12).collect();
        let mut shards = [0; NSHARDS];
        rebalance(&mut shards, &groups(&gids));
        assert!(counts(&shards).values().all(|&c| c == 1));
        rebalance(&mut shards, &groups(&[]));
        assert_eq!(shards, [0; NSHARDS]);
    }
}
