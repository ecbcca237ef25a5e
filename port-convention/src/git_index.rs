//! The paths a git index (`.git/index`) tracks, read without running git.
//!
//! Files that git tracks are deployed whatever `.gitignore` says (ignore
//! rules only keep untracked files out), so discovery reads tracked compose
//! files even when an ignore rule matches them. Running `git` in an
//! untrusted checkout could run its configured helpers (`core.fsmonitor`);
//! reading the index file cannot. Pure: bytes in, paths out.
//!
//! Format (git's `Documentation/gitformat-index.txt`): the header `DIRC`,
//! a version (2, 3 or 4) and an entry count, then per entry 40 bytes of
//! stat data, the object id (20 bytes for SHA-1, 32 for SHA-256), 16 bits of
//! flags (an extended 16 more in version 3 when bit 14 is set) and the path:
//! NUL-terminated and padded to a multiple of 8 bytes in versions 2 and 3;
//! in version 4 prefix-compressed (a varint of bytes to drop from the
//! previous path, then the NUL-terminated rest) and not padded.

/// Why an index could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct IndexError(pub &'static str);

/// The tracked paths of an index (relative to the work tree, `/`-separated),
/// in index order. `hash_len` is 20 (SHA-1) or 32 (SHA-256).
pub(crate) fn tracked_paths(bytes: &[u8], hash_len: usize) -> Result<Vec<String>, IndexError> {
    let be32 = |at: usize| -> Result<u32, IndexError> {
        bytes
            .get(at..at + 4)
            .and_then(|b| b.try_into().ok())
            .map(u32::from_be_bytes)
            .ok_or(IndexError("truncated"))
    };
    if bytes.get(0..4) != Some(b"DIRC") {
        return Err(IndexError("not a git index"));
    }
    let version = be32(4)?;
    if !(2..=4).contains(&version) {
        return Err(IndexError("unknown index version"));
    }
    let count = be32(8)? as usize;
    // Every entry takes at least 62 bytes: a count beyond what the file can
    // hold is a lie, not an allocation to make.
    if count > bytes.len() / 62 {
        return Err(IndexError("entry count larger than the file"));
    }
    let mut paths = Vec::with_capacity(count);
    let mut at = 12usize;
    let mut previous: Vec<u8> = Vec::new();
    for _ in 0..count {
        let start = at;
        let flags_at = start + 40 + hash_len;
        let flags = bytes
            .get(flags_at..flags_at + 2)
            .map(|b| u16::from_be_bytes([b[0], b[1]]))
            .ok_or(IndexError("truncated entry"))?;
        let mut path_at = flags_at + 2;
        if version >= 3 && flags & 0x4000 != 0 {
            path_at += 2;
        }
        let path: Vec<u8> = if version == 4 {
            // Varint as git writes it (offset encoding).
            let mut drop: usize = 0;
            let mut i = path_at;
            loop {
                let byte = *bytes.get(i).ok_or(IndexError("truncated path"))?;
                i += 1;
                drop = (drop << 7) | usize::from(byte & 0x7f);
                if byte & 0x80 == 0 {
                    break;
                }
                drop = drop.checked_add(1).ok_or(IndexError("bad prefix"))?;
                if drop > previous.len() {
                    return Err(IndexError("bad prefix"));
                }
            }
            let keep = previous
                .len()
                .checked_sub(drop)
                .ok_or(IndexError("bad prefix"))?;
            let rest = bytes.get(i..).ok_or(IndexError("truncated path"))?;
            let end = rest
                .iter()
                .position(|b| *b == 0)
                .ok_or(IndexError("unterminated path"))?;
            let mut path = previous.get(..keep).unwrap_or_default().to_vec();
            path.extend_from_slice(rest.get(..end).unwrap_or_default());
            at = i + end + 1;
            path
        } else {
            let rest = bytes.get(path_at..).ok_or(IndexError("truncated path"))?;
            let end = rest
                .iter()
                .position(|b| *b == 0)
                .ok_or(IndexError("unterminated path"))?;
            let path = rest.get(..end).unwrap_or_default().to_vec();
            // 1 to 8 NULs pad the entry to a multiple of 8 bytes.
            let len = path_at - start + end;
            at = start + (len + 8) / 8 * 8;
            path
        };
        paths.push(String::from_utf8_lossy(&path).into_owned());
        previous = path;
    }
    Ok(paths)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An index of `paths` as git writes it (version 2 or 4, SHA-1).
    fn index(version: u32, paths: &[&str]) -> Vec<u8> {
        let mut out = b"DIRC".to_vec();
        out.extend(version.to_be_bytes());
        out.extend(u32::try_from(paths.len()).unwrap().to_be_bytes());
        let mut previous = "";
        for path in paths {
            let start = out.len();
            out.extend([0u8; 40]);
            out.extend([0xabu8; 20]);
            out.extend(u16::try_from(path.len().min(0xfff)).unwrap().to_be_bytes());
            if version == 4 {
                let common = previous
                    .bytes()
                    .zip(path.bytes())
                    .take_while(|(a, b)| a == b)
                    .count();
                let drop = previous.len() - common;
                assert!(drop < 128, "test helper writes one-byte varints");
                out.push(u8::try_from(drop).unwrap());
                out.extend(path[common..].bytes());
                out.push(0);
            } else {
                out.extend(path.bytes());
                let len = out.len() - start;
                let padded = (len + 8) / 8 * 8;
                out.extend(std::iter::repeat_n(0u8, padded - len));
            }
            previous = path;
        }
        out.extend([0u8; 20]);
        out
    }

    #[test]
    fn versions_2_and_4_give_the_same_paths() {
        let paths = [
            "apps/web/compose.yaml",
            "apps/web/compose.override.yaml",
            "tools/docker-compose.yml",
            "x",
        ];
        for version in [2, 4] {
            assert_eq!(tracked_paths(&index(version, &paths), 20).unwrap(), paths);
        }
    }

    #[test]
    fn hostile_indexes_are_errors_not_panics() {
        assert!(tracked_paths(b"", 20).is_err());
        assert!(tracked_paths(b"DIRC\0\0\0\x09\0\0\0\0", 20).is_err());
        // A count of 4 billion entries in a 12-byte file allocates nothing.
        assert!(tracked_paths(b"DIRC\0\0\0\x02\xff\xff\xff\xff", 20).is_err());
        let mut truncated = index(2, &["a/compose.yaml"]);
        truncated.truncate(70);
        assert!(tracked_paths(&truncated, 20).is_err());
        // Version 4 dropping more than the previous path has.
        let mut bad = index(4, &["a"]);
        let drop_at = 12 + 40 + 20 + 2;
        bad[drop_at] = 5;
        assert!(tracked_paths(&bad, 20).is_err());
    }
}
