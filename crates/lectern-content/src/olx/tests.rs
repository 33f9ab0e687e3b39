//! Unit tests of the OLX reader and writer on small hand-made courses.
