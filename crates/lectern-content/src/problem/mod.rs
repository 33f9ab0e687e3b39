//! The problem engine: Open edX CAPA problem XML, parsed, rendered and graded.
