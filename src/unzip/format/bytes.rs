//! The little-endian field readers every record parser uses (every zip field is
//! little-endian).

/// The little-endian `u16` at `b[at..at + 2]` (every zip field is little-endian).
/// Every caller checks the length of the layout it reads first; a short `b` panics.
pub(crate) fn u16_at(b: &[u8], at: usize) -> u16 {
    u16::from_le_bytes([b[at], b[at + 1]])
}

/// The little-endian `u32` at `b[at..at + 4]`; see [`u16_at`].
pub(crate) fn u32_at(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

/// The little-endian `u64` at `b[at..at + 8]`; see [`u16_at`].
pub(crate) fn u64_at(b: &[u8], at: usize) -> u64 {
    let mut le = [0; 8];
    le.copy_from_slice(&b[at..at + 8]);
    u64::from_le_bytes(le)
}
