//! The expression evaluator for numerical and formula input, compatible with
//! Open edX's `openedx-calc` 4.0.3 (see OPENEDX-NOTES.md, "The evaluator").
