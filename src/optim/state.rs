//! TEMPORARY STUB (replaced by the optstate branch).
#![allow(missing_docs, clippy::missing_errors_doc)]
use alloc::string::String;
use alloc::vec::Vec;

use crate::safetensors::{SafeTensors, Writer};
use crate::{Result, Scalar};

pub type ParameterInfo = Vec<(String, Vec<usize>)>;

pub trait OptimizerState<T: Scalar> {
    fn write_state(&self, params: &ParameterInfo, writer: &mut Writer) -> Result<()>;
    fn read_state(&mut self, params: &ParameterInfo, file: &SafeTensors<'_>) -> Result<()>;
}
