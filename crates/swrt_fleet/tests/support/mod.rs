//! The fleet tests' servers (see swrt_test_servers), and the S3 options
//! that reach moto.

#![allow(dead_code)]

pub use swrt_test_servers::*;

/// The options that reach `s3`, with moto's fixed credentials.
pub fn s3_options(s3: &S3) -> swrt_fleet::S3Options {
    swrt_fleet::S3Options {
        endpoint: Some(s3.endpoint.clone()),
        region: Some("us-east-1".into()),
        access_key_id: Some("test".into()),
        secret_access_key: Some("test".into()),
    }
}
