//! What differs between Unix and Windows, in one file: file modes, positional reads,
//! opening the archive without blocking, flushing directories, and the publishing
//! rename. Everything else in the unzipper is the same code on every platform.
//!
//! | concern              | Unix                                   | Windows                                        |
//! |----------------------|----------------------------------------|------------------------------------------------|
//! | modes                | 0o644 / 0o755, umask corrected         | none (no execute bit to set)                   |
//! | positional read      | `pread` (`FileExt::read_at`)           | `ReadFile` at an offset (`FileExt::seek_read`) |
//! | opening the archive  | `O_NONBLOCK`, so a FIFO cannot block   | plain (named pipes live outside the file tree) |
//! | flushing a directory | `fsync` on the directory               | `FlushFileBuffers` on a directory handle       |
//! | publishing rename    | `rename(2)`, once                      | retried with backoff while access is denied    |

use std::fs::{self, DirBuilder, File, OpenOptions};
use std::io;
use std::path::Path;

/// The mode of every directory the unzipper creates (Unix).
#[cfg(unix)]
const DIR_MODE: u32 = 0o755;

/// The mode of a file: 0o755 if the archive gave it an execute bit, else 0o644.
pub(crate) fn file_mode(executable: bool) -> u32 {
    if executable { 0o755 } else { 0o644 }
}

/// Creates one directory, with mode 0o755 on Unix (minus the umask; see
/// [`umask_strips`]).
pub(crate) fn create_dir(path: &Path) -> io::Result<()> {
    #[cfg(unix)]
    {
        std::os::unix::fs::DirBuilderExt::mode(&mut DirBuilder::new(), DIR_MODE).create(path)
    }
    #[cfg(not(unix))]
    {
        DirBuilder::new().create(path)
    }
}

/// Creates a new file for writing with `mode` (minus the umask). Fails if anything
/// exists at `path`: it never follows a link or replaces a file.
pub(crate) fn create_file(path: &Path, mode: u32) -> io::Result<File> {
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, mode);
    #[cfg(not(unix))]
    let _ = mode;
    options.open(path)
}

/// Whether the process umask strips bits of 0o755 (and so of 0o644) from
/// `dir`, which was just created with it. Then every file and directory needs an
/// explicit `chmod` ([`set_file_mode`], [`set_dir_mode`]). Always false on Windows.
pub(crate) fn umask_strips(dir: &Path) -> io::Result<bool> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        Ok(fs::metadata(dir)?.permissions().mode() & 0o777 != DIR_MODE)
    }
    #[cfg(not(unix))]
    {
        let _ = dir;
        Ok(false)
    }
}

/// Gives an open file exactly `mode` (Unix; nothing to do on Windows).
pub(crate) fn set_file_mode(file: &File, mode: u32) -> io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        file.set_permissions(fs::Permissions::from_mode(mode))
    }
    #[cfg(not(unix))]
    {
        let _ = (file, mode);
        Ok(())
    }
}

/// Gives a directory exactly 0o755 (Unix; nothing to do on Windows).
pub(crate) fn set_dir_mode(path: &Path) -> io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(path, fs::Permissions::from_mode(DIR_MODE))
    }
    #[cfg(not(unix))]
    {
        let _ = path;
        Ok(())
    }
}

/// Reads into `buf` at `offset` without using the file's cursor, so any number of
/// threads can read through one `&File` at once. One call; may return less.
///
/// On Windows `seek_read` does move the cursor, but nothing here uses the cursor, and
/// each call passes its own offset, so concurrent calls do not disturb each other.
pub(crate) fn read_at(file: &File, buf: &mut [u8], offset: u64) -> io::Result<usize> {
    #[cfg(unix)]
    {
        std::os::unix::fs::FileExt::read_at(file, buf, offset)
    }
    #[cfg(windows)]
    {
        std::os::windows::fs::FileExt::seek_read(file, buf, offset)
    }
}

/// How to open an archive for reading. On Unix the open is non-blocking
/// (`O_NONBLOCK`): opening a FIFO for reading would otherwise wait for a writer,
/// forever if none comes. The flag changes nothing for a regular file, whose reads
/// never block on it, and the caller refuses anything that is not a regular file.
pub(crate) fn archive_open_options() -> OpenOptions {
    let mut options = OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::custom_flags(&mut options, libc::O_NONBLOCK);
    options
}

/// A name for a file type that is not a regular file.
pub(crate) fn describe(file_type: fs::FileType) -> &'static str {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if file_type.is_fifo() {
            return "FIFO";
        }
        if file_type.is_socket() {
            return "socket";
        }
        if file_type.is_char_device() {
            return "character device";
        }
        if file_type.is_block_device() {
            return "block device";
        }
    }
    if file_type.is_dir() {
        "directory"
    } else {
        "special file"
    }
}

/// Flushes a directory's entries to the device, so the files created or renamed in
/// it survive a power cut.
pub(crate) fn sync_dir(path: &Path) -> io::Result<()> {
    #[cfg(unix)]
    {
        File::open(path)?.sync_all()
    }
    #[cfg(windows)]
    {
        // A directory handle needs FILE_FLAG_BACKUP_SEMANTICS, and FlushFileBuffers
        // needs write access to it.
        use std::os::windows::fs::OpenOptionsExt;
        const FILE_FLAG_BACKUP_SEMANTICS: u32 = 0x0200_0000;
        OpenOptions::new()
            .read(true)
            .write(true)
            .custom_flags(FILE_FLAG_BACKUP_SEMANTICS)
            .open(path)?
            .sync_all()
    }
}

/// Renames the staging directory `from` to `to`, failing if `to` exists (on Unix
/// `rename(2)` fails on a non-empty directory and the caller checks for an empty one
/// first; on Windows renaming a directory onto any existing path fails).
///
/// On Windows, antivirus scanners and search indexers open files that were just
/// written, and while they hold one the rename of its directory fails with "access
/// denied" or a sharing violation. Installers retry such renames; so does this, with
/// a doubling delay from 10 ms, for about 2.5 s in all, and only while `to` does not
/// exist (a `to` that exists is a real conflict, reported at once).
pub(crate) fn rename_dir(from: &Path, to: &Path) -> io::Result<()> {
    #[cfg(windows)]
    {
        const ERROR_SHARING_VIOLATION: i32 = 32;
        let mut delay = std::time::Duration::from_millis(10);
        for _ in 0..8 {
            match fs::rename(from, to) {
                Err(e)
                    if (e.kind() == io::ErrorKind::PermissionDenied
                        || e.raw_os_error() == Some(ERROR_SHARING_VIOLATION))
                        && to.symlink_metadata().is_err() =>
                {
                    std::thread::sleep(delay);
                    delay *= 2;
                }
                other => return other,
            }
        }
    }
    fs::rename(from, to)
}
