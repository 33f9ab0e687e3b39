//! OLX: reading and writing Open edX course exports.
