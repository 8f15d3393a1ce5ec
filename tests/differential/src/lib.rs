//! Differential tests: every block aegis builds is re-executed by kona's stateless OP block
//! builder (`kona-executor`, an independent implementation on its own op-revm) from the trie
//! preimages aegis stored, and the resulting header must hash the same. The tests live in
//! `tests/`; this library is empty.
