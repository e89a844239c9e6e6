//! How a worker's script is run, shared by the host (which registers and
//! stores it) and realms (which evaluate the script accordingly).

/// How a worker's script is run (RegistrationOptions.type): a classic
/// script, or an ES module whose static imports load with it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum WorkerType {
    /// A classic script; `importScripts()` loads more.
    #[default]
    Classic,
    /// An ES module; `import` statements load more, `importScripts()` and
    /// `import()` throw TypeError.
    Module,
}

impl WorkerType {
    /// The WorkerType enum string.
    pub fn as_str(self) -> &'static str {
        match self {
            WorkerType::Classic => "classic",
            WorkerType::Module => "module",
        }
    }

    /// Parses the WorkerType enum string.
    pub fn parse(value: &str) -> Option<Self> {
        match value {
            "classic" => Some(WorkerType::Classic),
            "module" => Some(WorkerType::Module),
            _ => None,
        }
    }
}
