//! Names the destination's file system cannot hold as given: Windows device names and
//! characters, and distinct names that a case-insensitive (NTFS, APFS, HFS+) or
//! normalization-insensitive (APFS, HFS+) file system would take for one.
//!
//! The zip-slip rules of `name.rs` are the same everywhere; these depend on the
//! platform the crate is built for ([`FsRules::HOST`]), since that is where the files
//! are written. Each rule is a plain function of the name, compiled and unit-tested on
//! every platform.
//!
//! | rule | Linux | macOS | Windows | what it defends against |
//! |---|---|---|---|---|
//! | device names (`CON`, `NUL`, `COM1`, `LPT1`, ... with any extension) | - | - | refused | opening `nul.txt` opens the null device: the file is silently lost |
//! | a component ending in `.` or space | - | - | refused | Windows strips them, so `a.` and `a` become one file |
//! | `< > : " \| ? *` | - | - | refused | not allowed in names; `:` opens an NTFS alternate data stream |
//! | two paths equal under case folding | - | refused | refused | the second entry overwrites or merges into the first |
//! | two paths equal under Unicode normalization (NFC/NFD) | - | refused | - | the same, on file systems that normalize names |

use std::borrow::Cow;

use unicode_normalization::UnicodeNormalization;

use super::error::UnzipError;

/// Which of the platform rules apply.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct FsRules {
    /// Windows: device names, trailing dots and spaces, reserved characters.
    pub(crate) windows_names: bool,
    /// Names differing only in case are one name.
    pub(crate) fold_case: bool,
    /// Names differing only in Unicode normalization (NFC against NFD) are one name.
    pub(crate) fold_normalization: bool,
}

/// How two paths of one archive would collide on the file system.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Folding {
    Case,
    Normalization,
}

impl FsRules {
    /// Linux file systems (ext4, xfs, btrfs) are case- and normalization-sensitive by
    /// default: no rule applies.
    pub(crate) const LINUX: FsRules = FsRules {
        windows_names: false,
        fold_case: false,
        fold_normalization: false,
    };
    /// NTFS is case-insensitive (though case-preserving) and does not normalize.
    pub(crate) const WINDOWS: FsRules = FsRules {
        windows_names: true,
        fold_case: true,
        fold_normalization: false,
    };
    /// APFS and HFS+ as macOS formats them by default: case-insensitive and
    /// normalization-insensitive.
    pub(crate) const MACOS: FsRules = FsRules {
        windows_names: false,
        fold_case: true,
        fold_normalization: true,
    };

    /// The rules of the platform this crate is built for.
    pub(crate) const HOST: FsRules = if cfg!(windows) {
        FsRules::WINDOWS
    } else if cfg!(target_os = "macos") {
        FsRules::MACOS
    } else {
        FsRules::LINUX
    };

    /// Checks every component of the normalized `path` of entry `index` (`name` as
    /// stored) against the Windows naming rules, if they apply.
    pub(crate) fn check_components(
        self,
        index: usize,
        name: &str,
        path: &str,
    ) -> Result<(), UnzipError> {
        if !self.windows_names {
            return Ok(());
        }
        for component in path.split('/') {
            if let Some(character) = component.chars().find(|c| WINDOWS_FORBIDDEN.contains(c)) {
                return Err(UnzipError::ForbiddenCharacter {
                    index,
                    name: name.to_owned(),
                    character,
                });
            }
            if component.ends_with(['.', ' ']) {
                return Err(UnzipError::TrailingDotOrSpace {
                    index,
                    name: name.to_owned(),
                    component: component.to_owned(),
                });
            }
            if is_windows_device_name(component) {
                return Err(UnzipError::ReservedName {
                    index,
                    name: name.to_owned(),
                    component: component.to_owned(),
                });
            }
        }
        Ok(())
    }

    /// The key under which the file system files `path`: two paths with one key are
    /// one path there. `None` when neither folding applies (the path is its own key).
    pub(crate) fn fold(self, path: &str) -> Option<String> {
        if !self.fold_case && !self.fold_normalization {
            return None;
        }
        let mut key: Cow<'_, str> = Cow::Borrowed(path);
        if self.fold_normalization {
            key = Cow::Owned(key.nfd().collect());
        }
        if self.fold_case {
            key = Cow::Owned(fold_case(&key));
        }
        if self.fold_normalization {
            key = Cow::Owned(key.nfc().collect());
        }
        Some(key.into_owned())
    }

    /// Why two different paths with one key collide: normalization if they are equal
    /// once normalized (and that folding applies), case otherwise.
    pub(crate) fn why(self, a: &str, b: &str) -> Folding {
        if self.fold_normalization && a.nfc().eq(b.nfc()) {
            Folding::Normalization
        } else {
            Folding::Case
        }
    }
}

/// Characters Windows does not allow in a file name. (Control characters and `\`
/// are refused on every platform, by `name.rs`; `/` separates components.)
pub(crate) const WINDOWS_FORBIDDEN: [char; 7] = ['<', '>', ':', '"', '|', '?', '*'];

/// A case fold at least as wide as NTFS's (simple uppercase mapping) and APFS's
/// (Unicode case folding): full lowercase, then full uppercase. It merges a few
/// pairs that one of those file systems keeps apart (`ß` and `ss`), which refuses an
/// archive that might have extracted; it misses none they merge.
fn fold_case(s: &str) -> String {
    s.to_lowercase().to_uppercase()
}

/// `CON`, `PRN`, `AUX`, `NUL`, `COM0`-`COM9`, `LPT0`-`LPT9` (and the superscript
/// digits ¹ ² ³ Windows also accepts there), `CONIN$` and `CONOUT$`, in any case, alone
/// or followed by an extension (`nul.txt`, `Con.tar.gz`) or by spaces before it: Windows
/// opens the device instead of a file by that name.
pub(crate) fn is_windows_device_name(component: &str) -> bool {
    let stem = component
        .split('.')
        .next()
        .unwrap_or("")
        .trim_end_matches(' ');
    let upper = stem.to_uppercase();
    match upper.as_str() {
        "CON" | "PRN" | "AUX" | "NUL" | "CONIN$" | "CONOUT$" => true,
        _ => {
            let mut chars = upper.chars();
            let prefix: String = chars.by_ref().take(3).collect();
            let rest: Vec<char> = chars.collect();
            (prefix == "COM" || prefix == "LPT")
                && matches!(rest.as_slice(), [d] if d.is_ascii_digit() || matches!(d, '¹' | '²' | '³'))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn windows(path: &str) -> Result<(), UnzipError> {
        FsRules::WINDOWS.check_components(0, path, path)
    }

    #[test]
    fn windows_device_names_are_refused_in_any_case_and_with_any_extension() {
        for bad in [
            "CON",
            "con",
            "Con.txt",
            "a/nul",
            "NUL.tar.gz",
            "aux",
            "prn.py",
            "COM1",
            "com9.log",
            "LPT1",
            "lpt0",
            "COM¹",
            "conin$",
            "CONOUT$.x",
            "con .txt",
        ] {
            assert!(
                matches!(windows(bad), Err(UnzipError::ReservedName { .. })),
                "{bad:?}: {:?}",
                windows(bad)
            );
        }
        for good in [
            "console",
            "CONS",
            "nul_",
            "com10",
            "lpt",
            "COM",
            "a/connect.py",
            "x.con",
            "icon",
            "COMA",
        ] {
            assert!(windows(good).is_ok(), "{good:?}: {:?}", windows(good));
        }
    }

    #[test]
    fn windows_trailing_dots_and_spaces_and_reserved_characters_are_refused() {
        for bad in ["a.", "dir./x", "a ", "x/y /z"] {
            assert!(
                matches!(windows(bad), Err(UnzipError::TrailingDotOrSpace { .. })),
                "{bad:?}"
            );
        }
        for (bad, c) in [
            ("a<b", '<'),
            ("a>b", '>'),
            ("d/a:b", ':'),
            ("\"q\"", '"'),
            ("a|b", '|'),
            ("why?", '?'),
            ("*.py", '*'),
        ] {
            assert!(
                matches!(windows(bad), Err(UnzipError::ForbiddenCharacter { character, .. }) if character == c),
                "{bad:?}"
            );
        }
        assert!(windows(".hidden/a.b/c d.txt").is_ok());
    }

    #[test]
    fn linux_and_macos_accept_every_windows_only_name() {
        for rules in [FsRules::LINUX, FsRules::MACOS] {
            for name in ["CON", "a.", "a ", "a:b", "why?"] {
                assert!(rules.check_components(0, name, name).is_ok());
            }
        }
    }

    #[test]
    fn folding_merges_case_on_windows_and_macos_and_normalization_on_macos_only() {
        let nfc = "caf\u{e9}.py";
        let nfd = "cafe\u{301}.py";
        assert_eq!(FsRules::LINUX.fold("A/b"), None);
        assert_eq!(FsRules::WINDOWS.fold("A/B"), FsRules::WINDOWS.fold("a/b"));
        assert_ne!(FsRules::WINDOWS.fold(nfc), FsRules::WINDOWS.fold(nfd));
        assert_eq!(FsRules::MACOS.fold(nfc), FsRules::MACOS.fold(nfd));
        assert_eq!(
            FsRules::MACOS.fold("CAF\u{c9}.py"),
            FsRules::MACOS.fold(nfd)
        );
        assert_eq!(FsRules::MACOS.why(nfc, nfd), Folding::Normalization);
        assert_eq!(FsRules::MACOS.why("A", "a"), Folding::Case);
        // Wider than either file system where they differ, never narrower.
        assert_eq!(FsRules::WINDOWS.fold("\u{17f}"), FsRules::WINDOWS.fold("s"));
        assert_eq!(
            FsRules::WINDOWS.fold("\u{212a}"),
            FsRules::WINDOWS.fold("k")
        );
    }
}
