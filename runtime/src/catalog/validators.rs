//! The live catalog's compiled input and output validators, a bounded
//! cache.

use std::collections::HashMap;
use std::sync::Arc;

/// Compiled validators, made on first use per tool and role, at most
/// `max` of them (`EXECUTOR_MAX_VALIDATORS`, default 1024): a catalog of
/// 10,000 tools keeps only what is being called. The oldest made is
/// dropped first; a dropped one is compiled again when needed.
pub(super) struct Validators {
    pub(super) compiled: HashMap<(String, bool), Arc<jsonschema::Validator>>,
    pub(super) order: std::collections::VecDeque<(String, bool)>,
    max: usize,
}

impl Validators {
    pub(super) fn new(max: usize) -> Validators {
        Validators {
            compiled: HashMap::new(),
            order: std::collections::VecDeque::new(),
            max: max.max(1),
        }
    }

    pub(super) fn insert(&mut self, key: (String, bool), validator: Arc<jsonschema::Validator>) {
        while self.compiled.len() >= self.max {
            match self.order.pop_front() {
                Some(oldest) => {
                    self.compiled.remove(&oldest);
                }
                None => break,
            }
        }
        if self.compiled.insert(key.clone(), validator).is_none() {
            self.order.push_back(key);
        }
    }
}
