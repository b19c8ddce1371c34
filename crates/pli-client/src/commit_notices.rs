//! The notices a commit leaves in a conversation: who added or removed whom, and who
//! left, in plain words.

use crate::mls;
use openmls::prelude::*;
use pli_proto::Username;
use std::collections::BTreeSet;

/// The notices of a commit by `committer`: "@c added @x, removed @y" ("a new device of @x"
/// for a member's linked device), and "@z left the
/// conversation" for members taken out by their own proposal; none if it changed no member.
pub(crate) fn describe_commit(
    group: &MlsGroup,
    staged: &StagedCommit,
    committer: &Username,
) -> Vec<String> {
    let mut parts = Vec::new();
    let members: BTreeSet<Username> = mls::members(group).into_iter().map(|(_, u, _)| u).collect();
    // A user already in the group gained a device (one they linked), not a place in it.
    let added: BTreeSet<String> = staged
        .add_proposals()
        .filter_map(|p| {
            mls::member_identity(p.add_proposal().key_package().leaf_node().credential())
        })
        .map(|(u, _)| {
            if u == *committer {
                "a new device of theirs".to_owned()
            } else if members.contains(&u) {
                format!("a new device of @{u}")
            } else {
                format!("@{u}")
            }
        })
        .collect();
    // Each removed leaf, and whether its own member proposed it (left).
    let removals: Vec<(LeafNodeIndex, bool)> = staged
        .remove_proposals()
        .map(|p| {
            let removed = p.remove_proposal().removed();
            let own = matches!(p.sender(), Sender::Member(by) if *by == removed);
            (removed, own)
        })
        .collect();
    let removed_leaves: Vec<_> = removals.iter().map(|(leaf, _)| *leaf).collect();
    // A user who keeps other devices in the group lost one device, not their place in it.
    let stays = |user: &Username| {
        mls::members(group)
            .into_iter()
            .any(|(leaf, u, _)| u == *user && !removed_leaves.contains(&leaf))
    };
    let mut removed = BTreeSet::new();
    let mut left = BTreeSet::new();
    for (leaf, own) in &removals {
        let Some((u, _)) = group.member(*leaf).and_then(mls::member_identity) else {
            continue;
        };
        let who = if stays(&u) {
            format!("a device of @{u}")
        } else {
            format!("@{u}")
        };
        if *own {
            left.insert(who);
        } else {
            removed.insert(who);
        }
    }
    if !added.is_empty() {
        parts.push(format!(
            "added {}",
            added.into_iter().collect::<Vec<_>>().join(", ")
        ));
    }
    if !removed.is_empty() {
        parts.push(format!(
            "removed {}",
            removed.into_iter().collect::<Vec<_>>().join(", ")
        ));
    }
    let mut notices = Vec::new();
    if !parts.is_empty() {
        notices.push(format!("@{committer} {}", parts.join(", ")));
    }
    if !left.is_empty() {
        notices.push(format!(
            "{} left the conversation",
            left.into_iter().collect::<Vec<_>>().join(", ")
        ));
    }
    notices
}
