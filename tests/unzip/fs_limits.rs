//! Names the file system cannot hold are refused in the plan, not found as an OS
//! error half-way through writing.

use inflight::UnzipError as E;

use crate::assert_matches;
use crate::forge::{Raw, build};
use crate::readers;
use crate::support::reject;

#[test]
fn a_path_component_over_255_bytes_is_refused() {
    let name = format!("pkg/{}.py", "m".repeat(253));
    assert_matches!(
        reject(&build(&[
            Raw::stored("ok", b"ok"),
            Raw::stored(&name, b"x")
        ])),
        E::ComponentTooLong {
            index: 1,
            len: 256,
            ..
        }
    );
}

#[test]
fn a_path_component_of_255_bytes_is_accepted() {
    let name = format!("pkg/{}.py", "m".repeat(252));
    readers::assert_same_as_readers(&build(&[Raw::stored(&name, b"x")]));
}

#[test]
fn a_path_too_long_for_the_platform_under_the_destination_is_refused() {
    // 4,090 bytes: under the name-length limit (4,096), over PATH_MAX (4,095 without
    // the NUL) once the destination's own path is in front.
    let component = "c".repeat(199);
    let name = format!(
        "{}/{}",
        vec![component.as_str(); 20].join("/"),
        "d".repeat(90)
    );
    assert_eq!(name.len(), 4_090);
    assert_matches!(
        reject(&build(&[Raw::stored(&name, b"x")])),
        E::PathTooLong { index: 0, len, limit, .. } if len > limit
    );
}

#[test]
fn a_long_path_that_fits_is_accepted() {
    let component = "c".repeat(199);
    let name = vec![component.as_str(); 15].join("/");
    readers::assert_same_as_readers(&build(&[Raw::stored(&name, b"deep")]));
}
