//! A Merkle-Patricia trie over hash-addressed nodes, updated incrementally.
//!
//! Nodes live in a [`NodeSource`] keyed by the keccak of their RLP. An update loads only the nodes
//! on the paths of the keys it changes ([`Node::Hash`] stands for a subtree not loaded), so the cost
//! of a new root grows with the number of changed keys, not with the size of the trie. Old nodes
//! are never overwritten, so every retained root stays readable: that is what serves proofs and
//! reorgs at older blocks.
//!
//! Keys are always 32-byte hashes (the "secure" trie of Ethereum state and storage), so branches
//! never carry values.

use crate::StorageError;
use alloy_primitives::{B256, Bytes, keccak256};
use alloy_rlp::Header as RlpHeader;
use std::sync::Arc;

/// Root hash of an empty trie: `keccak256(rlp(""))`.
pub const EMPTY_ROOT: B256 = alloy_trie::EMPTY_ROOT_HASH;

/// Where trie nodes are read from.
pub trait NodeSource {
    /// The RLP of the node whose keccak is `hash`, if present.
    fn node(&self, hash: &B256) -> Result<Option<Arc<[u8]>>, StorageError>;

    /// Called after a branch or extension node was loaded: interior nodes are a small part of a
    /// trie that every update walks through, so a source may keep them in memory.
    fn loaded_interior(&self, _hash: &B256, _rlp: &Arc<[u8]>) {}

    /// `true` if the node is held in memory (a load would not touch the database).
    fn is_cached(&self, _hash: &B256) -> bool {
        false
    }
}

impl NodeSource for std::collections::HashMap<B256, Vec<u8>> {
    fn node(&self, hash: &B256) -> Result<Option<Arc<[u8]>>, StorageError> {
        Ok(self.get(hash).map(|rlp| rlp.as_slice().into()))
    }
}

#[derive(Clone, Debug, Default)]
enum Node {
    #[default]
    Empty,
    Leaf {
        path: Vec<u8>,
        value: Vec<u8>,
    },
    Ext {
        path: Vec<u8>,
        child: Box<Node>,
    },
    Branch {
        children: Box<[Node; 16]>,
        /// The stored node this branch was loaded from: the new version it becomes at commit
        /// replaces that one in the same place of the trie.
        origin: Option<B256>,
    },
    /// A subtree that has not been loaded.
    Hash(B256),
}

/// A trie being updated: start from a root, insert/remove keys, then [`Trie::commit`].
#[derive(Debug)]
pub struct Trie {
    root: Node,
    /// Stored nodes of the starting trie that the updates replaced (each expanded node is
    /// re-encoded at commit, so it counts as replaced even when it comes out unchanged).
    superseded: Vec<B256>,
    /// New branch versions of the last commits and the stored versions they replace.
    versions: Vec<(B256, B256)>,
}

/// Nodes created by a commit, as `(keccak(rlp), rlp)`.
pub type NewNodes = Vec<(B256, Vec<u8>)>;

impl Trie {
    /// A trie rooted at `root` (nothing is loaded until needed).
    pub fn new(root: B256) -> Self {
        Self {
            root: if root == EMPTY_ROOT {
                Node::Empty
            } else {
                Node::Hash(root)
            },
            superseded: Vec::new(),
            versions: Vec::new(),
        }
    }

    /// Sets `key` to `value` (an RLP item). An empty `value` is not allowed: use [`Trie::remove`].
    ///
    /// `old` is the key's current value when the caller knows it (from the flat state): the
    /// update then recognises the key's own leaf by its hash instead of reading it.
    pub fn insert(
        &mut self,
        key: &B256,
        value: Vec<u8>,
        old: Option<&[u8]>,
        src: &impl NodeSource,
    ) -> Result<(), StorageError> {
        let path = nibbles(key);
        let root = std::mem::take(&mut self.root);
        self.root = insert(root, &path, value, old, src, &mut self.superseded)?;
        Ok(())
    }

    /// Removes `key` if present.
    pub fn remove(&mut self, key: &B256, src: &impl NodeSource) -> Result<(), StorageError> {
        let path = nibbles(key);
        let root = std::mem::take(&mut self.root);
        self.root = remove(root, &path, src, &mut self.superseded)?;
        Ok(())
    }

    /// Marks every stored node under `root` as replaced: the whole trie is dropped (a storage
    /// trie wiped with its account).
    pub fn supersede_all(&mut self, root: B256, src: &impl NodeSource) -> Result<(), StorageError> {
        walk_nodes(
            src,
            root,
            &mut |hash, _| {
                self.superseded.push(*hash);
                Ok(())
            },
            &mut |_| Ok(()),
        )
        .map(|_| ())
    }

    /// Each new branch node of the commits so far with the stored node it is a new version of
    /// (the branch at the same place of the starting trie): a store may keep it as a patch on
    /// that one.
    pub fn take_versions(&mut self) -> Vec<(B256, B256)> {
        std::mem::take(&mut self.versions)
    }

    /// The stored nodes the updates so far replaced; see [`Trie::commit`].
    pub fn take_superseded(&mut self) -> Vec<B256> {
        std::mem::take(&mut self.superseded)
    }

    /// Hashes the trie, appending every node that is referenced by hash to `out`, and returns
    /// the root. The trie is left as a single unloaded root.
    ///
    /// Each node in `out` is a new *position* of the trie, and each of [`Trie::take_superseded`]
    /// a position of the starting trie that is gone: a store counting positions per node (see
    /// `node_refs`) knows when a node is no longer part of any retained trie.
    pub fn commit(&mut self, out: &mut NewNodes) -> B256 {
        let root = match &self.root {
            Node::Empty => EMPTY_ROOT,
            Node::Hash(h) => *h,
            node => {
                let rlp = encode(
                    node,
                    &mut Emitted {
                        nodes: out,
                        versions: &mut self.versions,
                    },
                );
                let hash = keccak256(&rlp);
                record_version(node, hash, &mut self.versions);
                out.push((hash, rlp));
                hash
            }
        };
        self.root = Node::Hash(root);
        root
    }
}

/// Looks `key` up under `root`, appending the RLP of each hash-referenced node on the path to
/// `proof` when given (the format of `eth_getProof`).
pub fn get(
    src: &impl NodeSource,
    root: B256,
    key: &B256,
    mut proof: Option<&mut Vec<Bytes>>,
) -> Result<Option<Vec<u8>>, StorageError> {
    if root == EMPTY_ROOT {
        return Ok(None);
    }
    let path = nibbles(key);
    let mut node = load(src, &root, proof.as_deref_mut())?;
    let mut pos = 0;
    loop {
        node = match node {
            Node::Empty => return Ok(None),
            Node::Hash(h) => load(src, &h, proof.as_deref_mut())?,
            Node::Leaf { path: p, value } => {
                return Ok((p[..] == path[pos..]).then_some(value));
            }
            Node::Ext { path: p, child } => {
                if !path[pos..].starts_with(&p) {
                    return Ok(None);
                }
                pos += p.len();
                *child
            }
            Node::Branch { mut children, .. } => {
                let i = path[pos] as usize;
                pos += 1;
                std::mem::take(&mut children[i])
            }
        };
    }
}

/// Calls `f(key, value)` for every leaf under `root`, in key order.
pub fn for_each_leaf(
    src: &impl NodeSource,
    root: B256,
    f: &mut impl FnMut(B256, Vec<u8>) -> Result<(), StorageError>,
) -> Result<(), StorageError> {
    fn walk(
        src: &impl NodeSource,
        node: Node,
        prefix: &mut Vec<u8>,
        f: &mut impl FnMut(B256, Vec<u8>) -> Result<(), StorageError>,
    ) -> Result<(), StorageError> {
        match node {
            Node::Empty => Ok(()),
            Node::Hash(h) => walk(src, load(src, &h, None)?, prefix, f),
            Node::Leaf { path, value } => {
                let len = prefix.len();
                prefix.extend_from_slice(&path);
                let key = pack_nibbles(prefix)?;
                prefix.truncate(len);
                f(key, value)
            }
            Node::Ext { path, child } => {
                let len = prefix.len();
                prefix.extend_from_slice(&path);
                walk(src, *child, prefix, f)?;
                prefix.truncate(len);
                Ok(())
            }
            Node::Branch { children, .. } => {
                for (i, child) in children.into_iter().enumerate() {
                    prefix.push(i as u8);
                    walk(src, child, prefix, f)?;
                    prefix.pop();
                }
                Ok(())
            }
        }
    }
    if root == EMPTY_ROOT {
        return Ok(());
    }
    walk(src, Node::Hash(root), &mut Vec::with_capacity(64), f)
}

/// Calls `on_node(hash, rlp)` for every node under `root` that is referenced by hash (the root
/// included) and `on_leaf(value)` for every leaf, depth first in key order; returns the number of
/// leaves. Fails with [`StorageError::MissingTrieNode`] on the first node `src` lacks: a walk that
/// succeeds proves `src` holds the whole trie. Memory is the depth of the trie, not its size.
pub fn walk_nodes(
    src: &impl NodeSource,
    root: B256,
    on_node: &mut impl FnMut(&B256, &[u8]) -> Result<(), StorageError>,
    on_leaf: &mut impl FnMut(&[u8]) -> Result<(), StorageError>,
) -> Result<u64, StorageError> {
    fn walk(
        src: &impl NodeSource,
        node: Node,
        on_node: &mut impl FnMut(&B256, &[u8]) -> Result<(), StorageError>,
        on_leaf: &mut impl FnMut(&[u8]) -> Result<(), StorageError>,
    ) -> Result<u64, StorageError> {
        match node {
            Node::Empty => Ok(0),
            Node::Hash(hash) => {
                let rlp = src
                    .node(&hash)?
                    .ok_or(StorageError::MissingTrieNode(hash))?;
                on_node(&hash, &rlp)?;
                walk(src, decode(&rlp)?, on_node, on_leaf)
            }
            Node::Leaf { value, .. } => on_leaf(&value).map(|()| 1),
            Node::Ext { child, .. } => walk(src, *child, on_node, on_leaf),
            Node::Branch { children, .. } => {
                let mut leaves = 0;
                for child in children.into_iter() {
                    leaves += walk(src, child, on_node, on_leaf)?;
                }
                Ok(leaves)
            }
        }
    }
    if root == EMPTY_ROOT {
        return Ok(0);
    }
    walk(src, Node::Hash(root), on_node, on_leaf)
}

fn load(
    src: &impl NodeSource,
    hash: &B256,
    proof: Option<&mut Vec<Bytes>>,
) -> Result<Node, StorageError> {
    let rlp = src
        .node(hash)?
        .ok_or(StorageError::MissingTrieNode(*hash))?;
    let mut node = decode(&rlp)?;
    if matches!(node, Node::Branch { .. } | Node::Ext { .. }) {
        src.loaded_interior(hash, &rlp);
    }
    if let Node::Branch { origin, .. } = &mut node {
        *origin = Some(*hash);
    }
    if let Some(proof) = proof {
        proof.push(Bytes::copy_from_slice(&rlp));
    }
    Ok(node)
}

fn nibbles(key: &B256) -> [u8; 64] {
    let mut out = [0u8; 64];
    for (i, b) in key.iter().enumerate() {
        out[2 * i] = b >> 4;
        out[2 * i + 1] = b & 0x0f;
    }
    out
}

fn pack_nibbles(path: &[u8]) -> Result<B256, StorageError> {
    if path.len() != 64 {
        return Err(StorageError::CorruptTrieNode("leaf path is not 64 nibbles"));
    }
    let mut out = B256::ZERO;
    for i in 0..32 {
        out[i] = (path[2 * i] << 4) | path[2 * i + 1];
    }
    Ok(out)
}

fn common_prefix(a: &[u8], b: &[u8]) -> usize {
    a.iter().zip(b).take_while(|(x, y)| x == y).count()
}

fn empty_children() -> Box<[Node; 16]> {
    Box::new(std::array::from_fn(|_| Node::Empty))
}

/// Wraps `node` in an extension for `path`, or returns it as is when `path` is empty.
fn with_prefix(path: &[u8], node: Node) -> Node {
    if path.is_empty() {
        node
    } else {
        Node::Ext {
            path: path.to_vec(),
            child: Box::new(node),
        }
    }
}

/// The leaf for `path` holding `old`, if its hash is `hash` (then it need not be read).
fn known_leaf(src: &impl NodeSource, hash: &B256, path: &[u8], old: &[u8]) -> Option<Node> {
    if src.is_cached(hash) {
        return None;
    }
    let leaf = Node::Leaf {
        path: path.to_vec(),
        value: old.to_vec(),
    };
    // A leaf emits nothing.
    let rlp = encode(
        &leaf,
        &mut Emitted {
            nodes: &mut Vec::new(),
            versions: &mut Vec::new(),
        },
    );
    (rlp.len() >= 32 && keccak256(&rlp) == *hash).then_some(leaf)
}

fn insert(
    node: Node,
    path: &[u8],
    value: Vec<u8>,
    old: Option<&[u8]>,
    src: &impl NodeSource,
    superseded: &mut Vec<B256>,
) -> Result<Node, StorageError> {
    Ok(match node {
        Node::Empty => Node::Leaf {
            path: path.to_vec(),
            value,
        },
        Node::Hash(h) => {
            let node = match old.and_then(|old| known_leaf(src, &h, path, old)) {
                Some(leaf) => leaf,
                None => load(src, &h, None)?,
            };
            superseded.push(h);
            insert(node, path, value, old, src, superseded)?
        }
        Node::Leaf {
            path: lp,
            value: lv,
        } => {
            let c = common_prefix(&lp, path);
            if c == lp.len() && c == path.len() {
                return Ok(Node::Leaf { path: lp, value });
            }
            if c == lp.len() || c == path.len() {
                return Err(StorageError::CorruptTrieNode(
                    "key is a prefix of another key",
                ));
            }
            let mut children = empty_children();
            children[lp[c] as usize] = Node::Leaf {
                path: lp[c + 1..].to_vec(),
                value: lv,
            };
            children[path[c] as usize] = Node::Leaf {
                path: path[c + 1..].to_vec(),
                value,
            };
            with_prefix(
                &path[..c],
                Node::Branch {
                    children,
                    origin: None,
                },
            )
        }
        Node::Ext { path: ep, child } => {
            let c = common_prefix(&ep, path);
            if c == ep.len() {
                let child = insert(*child, &path[c..], value, old, src, superseded)?;
                return Ok(Node::Ext {
                    path: ep,
                    child: Box::new(child),
                });
            }
            if c == path.len() {
                return Err(StorageError::CorruptTrieNode(
                    "key is a prefix of another key",
                ));
            }
            let mut children = empty_children();
            children[ep[c] as usize] = with_prefix(&ep[c + 1..], *child);
            children[path[c] as usize] = Node::Leaf {
                path: path[c + 1..].to_vec(),
                value,
            };
            with_prefix(
                &path[..c],
                Node::Branch {
                    children,
                    origin: None,
                },
            )
        }
        Node::Branch {
            mut children,
            origin,
        } => {
            let Some((&i, rest)) = path.split_first() else {
                return Err(StorageError::CorruptTrieNode("key ends at a branch"));
            };
            let child = std::mem::take(&mut children[i as usize]);
            children[i as usize] = insert(child, rest, value, old, src, superseded)?;
            Node::Branch { children, origin }
        }
    })
}

fn remove(
    node: Node,
    path: &[u8],
    src: &impl NodeSource,
    superseded: &mut Vec<B256>,
) -> Result<Node, StorageError> {
    Ok(match node {
        Node::Empty => Node::Empty,
        Node::Hash(h) => {
            superseded.push(h);
            remove(load(src, &h, None)?, path, src, superseded)?
        }
        Node::Leaf { path: lp, value } => {
            if lp == path {
                Node::Empty
            } else {
                Node::Leaf { path: lp, value }
            }
        }
        Node::Ext { path: ep, child } => {
            if !path.starts_with(&ep) {
                return Ok(Node::Ext { path: ep, child });
            }
            let child = remove(*child, &path[ep.len()..], src, superseded)?;
            join_prefix(&ep, child, src, superseded)?
        }
        Node::Branch {
            mut children,
            origin,
        } => {
            let Some((&i, rest)) = path.split_first() else {
                return Ok(Node::Branch { children, origin });
            };
            let child = std::mem::take(&mut children[i as usize]);
            children[i as usize] = remove(child, rest, src, superseded)?;
            let mut live = children
                .iter()
                .enumerate()
                .filter(|(_, c)| !matches!(c, Node::Empty))
                .map(|(i, _)| i);
            let (first, second) = (live.next(), live.next());
            match (first, second) {
                (None, _) => Node::Empty,
                (Some(only), None) => {
                    let child = std::mem::take(&mut children[only]);
                    join_prefix(&[only as u8], child, src, superseded)?
                }
                _ => Node::Branch { children, origin },
            }
        }
    })
}

/// `prefix` followed by `child`, merging paths so that no extension points at a leaf or another
/// extension.
fn join_prefix(
    prefix: &[u8],
    child: Node,
    src: &impl NodeSource,
    superseded: &mut Vec<B256>,
) -> Result<Node, StorageError> {
    let child = match child {
        Node::Hash(h) => {
            superseded.push(h);
            load(src, &h, None)?
        }
        node => node,
    };
    Ok(match child {
        Node::Empty => Node::Empty,
        Node::Leaf { path, value } => Node::Leaf {
            path: [prefix, &path].concat(),
            value,
        },
        Node::Ext { path, child } => Node::Ext {
            path: [prefix, &path].concat(),
            child,
        },
        branch => with_prefix(prefix, branch),
    })
}

// --- encoding -------------------------------------------------------------------------------

fn hex_prefix(path: &[u8], leaf: bool) -> Vec<u8> {
    let flag = if leaf { 2u8 } else { 0 };
    let mut out = Vec::with_capacity(path.len() / 2 + 1);
    let rest = if path.len() % 2 == 1 {
        out.push(((flag + 1) << 4) | path[0]);
        &path[1..]
    } else {
        out.push(flag << 4);
        path
    };
    out.extend(rest.chunks_exact(2).map(|p| (p[0] << 4) | p[1]));
    out
}

fn rlp_string(bytes: &[u8], out: &mut Vec<u8>) {
    if bytes.len() == 1 && bytes[0] < 0x80 {
        out.push(bytes[0]);
    } else {
        RlpHeader {
            list: false,
            payload_length: bytes.len(),
        }
        .encode(out);
        out.extend_from_slice(bytes);
    }
}

fn rlp_list(payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(payload.len() + 3);
    RlpHeader {
        list: true,
        payload_length: payload.len(),
    }
    .encode(&mut out);
    out.extend_from_slice(payload);
    out
}

/// Where a commit puts what it creates.
struct Emitted<'a> {
    nodes: &'a mut NewNodes,
    versions: &'a mut Vec<(B256, B256)>,
}

/// Notes that `node`, hashed to `hash`, is a new version of the stored branch it was loaded
/// from (unless it came out unchanged).
fn record_version(node: &Node, hash: B256, versions: &mut Vec<(B256, B256)>) {
    if let Node::Branch {
        origin: Some(origin),
        ..
    } = node
        && *origin != hash
    {
        versions.push((hash, *origin));
    }
}

/// Appends the reference to `node` (inline RLP under 32 bytes, else its hash) to `out`.
fn encode_ref(node: &Node, emitted: &mut Emitted<'_>, out: &mut Vec<u8>) {
    match node {
        Node::Empty => out.push(0x80),
        Node::Hash(h) => rlp_string(h.as_slice(), out),
        node => {
            let rlp = encode(node, emitted);
            if rlp.len() < 32 {
                out.extend_from_slice(&rlp);
            } else {
                let hash = keccak256(&rlp);
                rlp_string(hash.as_slice(), out);
                record_version(node, hash, emitted.versions);
                emitted.nodes.push((hash, rlp));
            }
        }
    }
}

fn encode(node: &Node, emitted: &mut Emitted<'_>) -> Vec<u8> {
    let mut payload = Vec::with_capacity(96);
    match node {
        Node::Empty => return vec![0x80],
        Node::Hash(_) => unreachable!("hash nodes are encoded as references"),
        Node::Leaf { path, value } => {
            rlp_string(&hex_prefix(path, true), &mut payload);
            rlp_string(value, &mut payload);
        }
        Node::Ext { path, child } => {
            rlp_string(&hex_prefix(path, false), &mut payload);
            encode_ref(child, emitted, &mut payload);
        }
        Node::Branch { children, .. } => {
            payload.reserve(16 * 33);
            for child in children.iter() {
                encode_ref(child, emitted, &mut payload);
            }
            payload.push(0x80);
        }
    }
    rlp_list(&payload)
}

// --- decoding -------------------------------------------------------------------------------

/// Splits one RLP item off `buf`: returns (whole item, payload, is_list).
fn split_item<'a>(buf: &mut &'a [u8]) -> Result<(&'a [u8], &'a [u8], bool), StorageError> {
    let start = *buf;
    let header =
        RlpHeader::decode(buf).map_err(|_| StorageError::CorruptTrieNode("bad RLP header"))?;
    if buf.len() < header.payload_length {
        return Err(StorageError::CorruptTrieNode("truncated RLP item"));
    }
    let payload = &buf[..header.payload_length];
    *buf = &buf[header.payload_length..];
    let whole = &start[..start.len() - buf.len()];
    Ok((whole, payload, header.list))
}

fn decode(rlp: &[u8]) -> Result<Node, StorageError> {
    let mut buf = rlp;
    let (_, mut payload, is_list) = split_item(&mut buf)?;
    if !is_list || !buf.is_empty() {
        return Err(StorageError::CorruptTrieNode(
            "node is not a single RLP list",
        ));
    }
    // At most 17 items: a fixed array spares an allocation per decoded node.
    let mut items: [(&[u8], &[u8], bool); 17] = [(&[], &[], false); 17];
    let mut count = 0;
    while !payload.is_empty() {
        if count == items.len() {
            return Err(StorageError::CorruptTrieNode("node has more than 17 items"));
        }
        items[count] = split_item(&mut payload)?;
        count += 1;
    }
    match count {
        2 => {
            let (_, compact, false) = items[0] else {
                return Err(StorageError::CorruptTrieNode("path is not a string"));
            };
            let Some(&first) = compact.first() else {
                return Err(StorageError::CorruptTrieNode("empty path"));
            };
            let flag = first >> 4;
            if flag > 3 {
                return Err(StorageError::CorruptTrieNode("bad hex-prefix flag"));
            }
            let mut path = Vec::with_capacity(compact.len() * 2);
            if flag & 1 == 1 {
                path.push(first & 0x0f);
            }
            for b in &compact[1..] {
                path.push(b >> 4);
                path.push(b & 0x0f);
            }
            if flag >= 2 {
                let (_, value, false) = items[1] else {
                    return Err(StorageError::CorruptTrieNode("leaf value is not a string"));
                };
                Ok(Node::Leaf {
                    path,
                    value: value.to_vec(),
                })
            } else {
                if path.is_empty() {
                    return Err(StorageError::CorruptTrieNode("empty extension path"));
                }
                Ok(Node::Ext {
                    path,
                    child: Box::new(decode_ref(items[1])?),
                })
            }
        }
        17 => {
            if !items[16].1.is_empty() {
                return Err(StorageError::CorruptTrieNode(
                    "branch value in a secure trie",
                ));
            }
            let mut children = empty_children();
            for (child, item) in children.iter_mut().zip(&items[..16]) {
                *child = decode_ref(*item)?;
            }
            Ok(Node::Branch {
                children,
                origin: None,
            })
        }
        _ => Err(StorageError::CorruptTrieNode(
            "node has neither 2 nor 17 items",
        )),
    }
}

fn decode_ref((whole, payload, is_list): (&[u8], &[u8], bool)) -> Result<Node, StorageError> {
    if is_list {
        decode(whole)
    } else if payload.is_empty() {
        Ok(Node::Empty)
    } else if payload.len() == 32 {
        Ok(Node::Hash(B256::from_slice(payload)))
    } else {
        Err(StorageError::CorruptTrieNode(
            "child reference is neither inline nor a hash",
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy_primitives::U256;
    use alloy_trie::{HashBuilder, Nibbles, proof::verify_proof};
    use proptest::prelude::*;
    use std::collections::{BTreeMap, HashMap};

    /// The root computed from scratch by alloy-trie's independent hash builder.
    fn reference_root(map: &BTreeMap<B256, Vec<u8>>) -> B256 {
        let mut hb = HashBuilder::default();
        for (k, v) in map {
            hb.add_leaf(Nibbles::unpack(k), v);
        }
        hb.root()
    }

    fn value(n: u64) -> Vec<u8> {
        alloy_rlp::encode(U256::from(n))
    }

    /// Applies `(key, new value or removal)` ops; inserts get `hints` as the known old values.
    fn apply_hinted(
        db: &mut HashMap<B256, Vec<u8>>,
        root: B256,
        ops: &[(B256, Option<Vec<u8>>)],
        hints: &[Option<Vec<u8>>],
    ) -> B256 {
        let mut trie = Trie::new(root);
        for ((k, v), hint) in ops.iter().zip(hints.iter().chain(std::iter::repeat(&None))) {
            match v {
                Some(v) => trie.insert(k, v.clone(), hint.as_deref(), db).unwrap(),
                None => trie.remove(k, db).unwrap(),
            }
        }
        let mut nodes = Vec::new();
        let root = trie.commit(&mut nodes);
        db.extend(nodes);
        root
    }

    fn apply(db: &mut HashMap<B256, Vec<u8>>, root: B256, ops: &[(B256, Option<Vec<u8>>)]) -> B256 {
        apply_hinted(db, root, ops, &[])
    }

    #[test]
    fn empty_trie_has_empty_root() {
        let mut trie = Trie::new(EMPTY_ROOT);
        let mut nodes = Vec::new();
        assert_eq!(trie.commit(&mut nodes), EMPTY_ROOT);
        assert!(nodes.is_empty());
    }

    #[test]
    fn removing_everything_returns_to_empty_root() {
        let mut db = HashMap::new();
        let keys: Vec<B256> = (0..50u64).map(|i| keccak256(i.to_be_bytes())).collect();
        let root = apply(
            &mut db,
            EMPTY_ROOT,
            &keys
                .iter()
                .map(|k| (*k, Some(value(7))))
                .collect::<Vec<_>>(),
        );
        assert_ne!(root, EMPTY_ROOT);
        let root = apply(
            &mut db,
            root,
            &keys.iter().map(|k| (*k, None)).collect::<Vec<_>>(),
        );
        assert_eq!(root, EMPTY_ROOT);
    }

    #[test]
    fn missing_node_is_an_error_not_a_panic() {
        let db = HashMap::new();
        let err = get(&db, B256::repeat_byte(1), &B256::ZERO, None).unwrap_err();
        assert!(matches!(err, StorageError::MissingTrieNode(_)));
        assert!(decode(&[0xc1, 0x80]).is_err());
        assert!(decode(&[0xff]).is_err());
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        /// Incremental updates over several commits always agree with a from-scratch root, every
        /// key reads back with a proof that verifies, and old roots stay readable.
        #[test]
        fn incremental_root_matches_reference(
            batches in prop::collection::vec(
                prop::collection::vec((0u16..400, prop::option::weighted(0.75, 1u64..1_000_000)), 1..60),
                1..6,
            )
        ) {
            let mut db = HashMap::new();
            let mut model = BTreeMap::new();
            let mut root = EMPTY_ROOT;
            let mut history = Vec::new();
            for batch in batches {
                let ops: Vec<_> = batch
                    .iter()
                    .map(|(k, v)| (keccak256(k.to_be_bytes()), v.map(value)))
                    .collect();
                // Old values as the flat state would give them, sometimes withheld or wrong.
                let mut hints = Vec::new();
                for (i, (k, v)) in ops.iter().enumerate() {
                    let known = model.get(k).cloned();
                    hints.push(match i % 3 { 0 => known, 1 => None, _ => Some(value(7)) });
                    match v { Some(v) => { model.insert(*k, v.clone()); } None => { model.remove(k); } }
                }
                root = apply_hinted(&mut db, root, &ops, &hints);
                prop_assert_eq!(root, reference_root(&model));
                history.push((root, model.clone()));
            }
            for (root, model) in &history {
                for k in 0u16..400 {
                    let key = keccak256(k.to_be_bytes());
                    let mut proof = Vec::new();
                    let got = get(&db, *root, &key, Some(&mut proof)).unwrap();
                    prop_assert_eq!(got.as_ref(), model.get(&key));
                    let verified = verify_proof(*root, Nibbles::unpack(key), got.clone(), proof.iter());
                    prop_assert!(verified.is_ok(), "proof for {key} failed: {verified:?}");
                }
                let mut leaves = BTreeMap::new();
                for_each_leaf(&db, *root, &mut |k, v| { leaves.insert(k, v); Ok(()) }).unwrap();
                prop_assert_eq!(&leaves, model);
            }
        }

        /// Counting a node up for each commit that emits it and down for each update that
        /// supersedes it gives exactly the number of places it holds in the current trie (two
        /// tries here, as an account trie and a storage trie may share nodes): deleting nodes at
        /// zero keeps every current node and leaves nothing else behind.
        #[test]
        fn position_counts_keep_exactly_the_live_nodes(
            batches in prop::collection::vec(
                prop::collection::vec((0u16..300, any::<bool>(), prop::option::weighted(0.7, 1u64..4)), 1..50),
                1..8,
            ),
            wipe_at in prop::option::of(0usize..8),
        ) {
            let mut db: HashMap<B256, Vec<u8>> = HashMap::new();
            let mut refs: HashMap<B256, u32> = HashMap::new();
            let mut roots = [EMPTY_ROOT; 2];
            for (n, batch) in batches.iter().enumerate() {
                let mut tries = roots.map(Trie::new);
                if wipe_at == Some(n) {
                    tries[1].supersede_all(roots[1], &db).unwrap();
                    tries[1] = Trie { root: Node::Empty, superseded: tries[1].take_superseded(), versions: Vec::new() };
                }
                for (k, second, v) in batch {
                    // Few distinct values, so identical leaves recur within and across tries.
                    let key = keccak256(k.to_be_bytes());
                    let trie = &mut tries[usize::from(*second)];
                    match v {
                        Some(v) => trie.insert(&key, value(*v), None, &db).unwrap(),
                        None => trie.remove(&key, &db).unwrap(),
                    }
                }
                let mut nodes = Vec::new();
                let mut superseded = Vec::new();
                for (i, trie) in tries.iter_mut().enumerate() {
                    roots[i] = trie.commit(&mut nodes);
                    superseded.extend(trie.take_superseded());
                }
                for (hash, rlp) in nodes {
                    *refs.entry(hash).or_default() += 1;
                    db.insert(hash, rlp);
                }
                for hash in superseded {
                    let count = refs.get_mut(&hash).expect("a superseded node was counted");
                    *count -= 1;
                    if *count == 0 {
                        refs.remove(&hash);
                        db.remove(&hash);
                    }
                }
                let mut positions: HashMap<B256, u32> = HashMap::new();
                for root in roots {
                    walk_nodes(&db, root, &mut |h, _| { *positions.entry(*h).or_default() += 1; Ok(()) }, &mut |_| Ok(())).unwrap();
                }
                prop_assert_eq!(&positions, &refs);
                prop_assert_eq!(db.len(), refs.len());
            }
        }
    }
}
