//! Entry names: the zip-slip rules.
//!
//! An entry name becomes a path relative to the staging directory only through
//! [`normalize`], which rejects every name that could land outside it or mean different
//! things on different systems. The checks run in a fixed order so that a name breaking
//! several rules always gets the same error (`C:\x` is a drive prefix, not a backslash).

use super::error::UnzipError;
use super::limits::Limits;

/// Longest path component, in bytes (`NAME_MAX` on Linux and macOS; most file
/// systems, whatever the platform, stop at 255).
pub(crate) const NAME_MAX: usize = 255;

/// Longest path the platform accepts in a system call, without the terminating NUL
/// (`PATH_MAX` is 4,096 with it on Linux, 1,024 on macOS).
#[cfg(target_os = "macos")]
pub(crate) const PATH_MAX: usize = 1_023;
/// Longest path the platform accepts in a system call, without the terminating NUL
/// (`PATH_MAX` is 4,096 with it on Linux, 1,024 on macOS).
#[cfg(not(target_os = "macos"))]
pub(crate) const PATH_MAX: usize = 4_095;

/// A name that passed every rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct NormalName {
    /// Components joined by `/`, without `.`, empty components or resolved `..`.
    pub(crate) path: String,
    /// Number of components in `path`.
    pub(crate) depth: usize,
    /// The name ends with `/`: it names a directory.
    pub(crate) is_dir: bool,
}

/// Checks `name` (entry `index`) against the rules and returns its normalized path.
///
/// Order: length, control characters, UNC/drive prefix, leading `/`, backslash, then
/// component by component a component over [`NAME_MAX`] or a `..` escape, emptiness,
/// a `..` that stays inside or a final `.`, depth.
pub(crate) fn normalize(
    index: usize,
    name: &str,
    limits: &Limits,
) -> Result<NormalName, UnzipError> {
    let owned = || name.to_owned();
    if name.len() > limits.max_name_len {
        let mut cut = limits.max_name_len;
        while !name.is_char_boundary(cut) {
            cut -= 1;
        }
        return Err(UnzipError::NameTooLong {
            index,
            name: name[..cut].to_owned(),
            len: name.len(),
            limit: limits.max_name_len,
        });
    }
    if name.chars().any(char::is_control) {
        return Err(UnzipError::ControlCharacter {
            index,
            name: owned(),
        });
    }
    let bytes = name.as_bytes();
    let unc = name.starts_with("\\\\") || name.starts_with("//");
    let drive = bytes.len() >= 2 && bytes[0].is_ascii_alphabetic() && bytes[1] == b':';
    if unc || drive {
        return Err(UnzipError::PathPrefix {
            index,
            name: owned(),
        });
    }
    if name.starts_with('/') {
        return Err(UnzipError::AbsolutePath {
            index,
            name: owned(),
        });
    }
    if name.contains('\\') {
        return Err(UnzipError::Backslash {
            index,
            name: owned(),
        });
    }
    let mut parts: Vec<&str> = Vec::new();
    let mut last = "";
    let mut dot_dot = false;
    for part in name.split('/') {
        last = part;
        dot_dot |= part == "..";
        // Even a component that `..` removes again: a reader that drops `..` instead
        // of resolving it (CPython's `extractall`) would still create it.
        if part.len() > NAME_MAX {
            return Err(UnzipError::ComponentTooLong {
                index,
                name: owned(),
                len: part.len(),
            });
        }
        match part {
            "" | "." => {}
            ".." => {
                if parts.pop().is_none() {
                    return Err(UnzipError::ParentEscape {
                        index,
                        name: owned(),
                    });
                }
            }
            _ => parts.push(part),
        }
    }
    if parts.is_empty() {
        return Err(UnzipError::EmptyName {
            index,
            name: owned(),
        });
    }
    // CPython's `extractall` drops `.` and `..` components (`a/b/../c` becomes
    // `a/b/c`, `a/.` a file `a`); pip and the zip crate resolve them (`a/c`, a
    // directory `a`). Inner `.` and empty components mean the same to everyone.
    if dot_dot || last == "." {
        return Err(UnzipError::DotComponent {
            index,
            name: owned(),
        });
    }
    if parts.len() > limits.max_depth {
        return Err(UnzipError::TooDeep {
            index,
            name: owned(),
            depth: parts.len(),
            limit: limits.max_depth,
        });
    }
    Ok(NormalName {
        depth: parts.len(),
        path: parts.join("/"),
        is_dir: last.is_empty(),
    })
}

/// Checks that `path` (normalized) fits under a directory path of `base_len` bytes:
/// `base/path` must be at most [`PATH_MAX`] bytes, or writing it would fail with
/// `ENAMETOOLONG` half-way through the extraction.
pub(crate) fn check_fits(
    index: usize,
    name: &str,
    path: &str,
    base_len: usize,
) -> Result<(), UnzipError> {
    let len = base_len.saturating_add(1).saturating_add(path.len());
    if len > PATH_MAX {
        return Err(UnzipError::PathTooLong {
            index,
            name: name.to_owned(),
            len,
            limit: PATH_MAX,
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(name: &str) -> NormalName {
        normalize(0, name, &Limits::default()).expect(name)
    }

    #[test]
    fn inner_dot_and_empty_components_are_dropped() {
        assert_eq!(ok("a/./b//c").path, "a/b/c");
        assert_eq!(ok("a/./b//c").depth, 3);
    }

    #[test]
    fn a_parent_reference_inside_or_a_final_dot_is_refused() {
        for name in ["a/b/../c", "a/b/..", "a/.", "a/b/./."] {
            assert!(
                matches!(
                    normalize(0, name, &Limits::default()),
                    Err(UnzipError::DotComponent { .. })
                ),
                "{name}"
            );
        }
    }

    #[test]
    fn a_trailing_slash_names_a_directory() {
        assert!(ok("a/b/").is_dir);
        assert!(!ok("a/b").is_dir);
    }

    #[test]
    fn a_name_breaking_several_rules_gets_the_first_rule_in_order() {
        let limits = Limits::default();
        assert!(matches!(
            normalize(0, "C:\\x", &limits),
            Err(UnzipError::PathPrefix { .. })
        ));
        assert!(matches!(
            normalize(0, "/a/../../x", &limits),
            Err(UnzipError::AbsolutePath { .. })
        ));
        assert!(matches!(
            normalize(0, "a\\..\\x", &limits),
            Err(UnzipError::Backslash { .. })
        ));
        assert!(matches!(
            normalize(0, "a/\0/../..", &limits),
            Err(UnzipError::ControlCharacter { .. })
        ));
    }

    #[test]
    fn a_component_over_name_max_is_refused_even_when_dotdot_removes_it() {
        let long = "x".repeat(NAME_MAX + 1);
        for name in [format!("a/{long}"), format!("{long}/../b")] {
            assert!(matches!(
                normalize(3, &name, &Limits::default()),
                Err(UnzipError::ComponentTooLong {
                    index: 3,
                    len: 256,
                    ..
                })
            ));
        }
        assert_eq!(ok(&"x".repeat(NAME_MAX)).depth, 1);
    }

    #[test]
    fn a_path_that_does_not_fit_under_the_destination_is_refused() {
        assert!(check_fits(0, "n", &"a".repeat(100), PATH_MAX - 101).is_ok());
        assert!(matches!(
            check_fits(0, "n", &"a".repeat(100), PATH_MAX - 100),
            Err(UnzipError::PathTooLong { len, limit: PATH_MAX, .. }) if len == PATH_MAX + 1
        ));
    }

    #[test]
    fn a_long_name_is_truncated_on_a_char_boundary_in_the_error() {
        let limits = Limits {
            max_name_len: 3,
            ..Limits::default()
        };
        match normalize(7, "aéé", &limits) {
            Err(UnzipError::NameTooLong {
                index: 7,
                name,
                len: 5,
                limit: 3,
            }) => assert_eq!(name, "aé"),
            other => panic!("{other:?}"),
        }
    }
}
