//! HTTP Digest authentication for ureq (work in progress).
