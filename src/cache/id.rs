//! Which ids a cache accepts: one path component that means the same entry on every
//! platform, inside the root, and never one of the cache's own names.
//!
//! The rules are the same on every platform, so an id that works on Linux works on
//! Windows and macOS too (a cache root may be shared, and programs move):
//!
//! | refused                                                    | why                                                     |
//! |------------------------------------------------------------|---------------------------------------------------------|
//! | empty, or longer than 200 bytes                            | no entry, or no room for `.<id>.staging` under 255 bytes |
//! | starting with `.`                                          | names starting with `.` are the cache's own (`.`, `..`, locks, staging) |
//! | `/`, `\`, NUL or control characters                        | a separator leaves the root; control characters hide    |
//! | `< > : " \| ? *`                                           | Windows: `C:` is a drive (`root.join("C:")` is not inside the root), `x:y` an NTFS stream |
//! | ending in `.` or space                                     | Windows strips them: `a.` and `a` are one entry         |
//! | device names (`CON`, `nul.txt`, `COM1`, `LPT9.log`, ...)   | Windows opens the device instead of a file              |

use crate::unzip::fs_names;

/// The longest id, in bytes.
pub(crate) const MAX_ID_LEN: usize = 200;

/// Why `id` is refused, or `None` if it is a good id.
pub(crate) fn refusal(id: &str) -> Option<&'static str> {
    Some(if id.is_empty() {
        "it is empty"
    } else if id.len() > MAX_ID_LEN {
        "it is longer than 200 bytes"
    } else if id.starts_with('.') {
        "it starts with '.' (names starting with '.' are the cache's own)"
    } else if id.chars().any(|c| c == '/' || c == '\\') {
        "it holds a path separator"
    } else if id.chars().any(char::is_control) {
        "it holds a control character"
    } else if id.chars().any(|c| fs_names::WINDOWS_FORBIDDEN.contains(&c)) {
        "it holds one of < > : \" | ? * (not allowed in Windows names; 'C:' names a drive)"
    } else if id.ends_with(['.', ' ']) {
        "it ends with '.' or a space (Windows strips them)"
    } else if fs_names::is_windows_device_name(id) {
        "it is a Windows device name (CON, NUL, COM1, LPT1, ... with any extension)"
    } else {
        return None;
    })
}

#[cfg(test)]
mod tests {
    use super::refusal;

    #[test]
    fn ids_must_mean_one_entry_inside_the_root_on_every_platform() {
        for bad in [
            "",
            ".",
            "..",
            ".hidden",
            "a/b",
            "a\\b",
            "../x",
            "/abs",
            "a\0b",
            "a\nb",
            "C:",
            "c:x",
            "a:b",
            "sha256:abc",
            "a<b",
            "a>b",
            "a\"b",
            "a|b",
            "a?b",
            "a*b",
            "trailing.",
            "trailing ",
            "CON",
            "con",
            "nul.txt",
            "Com1",
            "LPT9.log",
            "aux.tar.gz",
            "conin$",
        ] {
            assert!(refusal(bad).is_some(), "{bad:?} was accepted");
        }
        assert!(refusal(&"x".repeat(201)).is_some());
        for good in [
            "numpy-2.1.0-cp312-cp312-manylinux_2_17_x86_64",
            "a",
            "a.b",
            "sha256=abc",
            "console",
            "com10",
            "x".repeat(200).as_str(),
        ] {
            assert_eq!(refusal(good), None, "{good:?} was refused");
        }
    }
}
