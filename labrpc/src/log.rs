//! Logs with virtual time and node: `[   1.234567s] S2     DEBUG raft: became leader term=3`.
//!
//! Lab code logs with the ordinary `tracing` macros (`tracing::debug!(term, "became
//! leader")`). Nothing is printed unless `LAB_LOG` is set to a `tracing` filter such as
//! `debug`, `raft=trace` or `labrpc=debug,raft=info`; without it no subscriber is installed
//! and a disabled log statement costs one branch.

use std::fmt;

use tracing::{Event, Subscriber};
use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields};
use tracing_subscriber::registry::LookupSpan;

use crate::runtime::context::try_with_world;

/// The environment variable that turns logs on.
pub const LOG_ENV: &str = "LAB_LOG";

/// Installs the log printer for the current thread if `LAB_LOG` asks for one.
pub(crate) fn install() -> Option<tracing::subscriber::DefaultGuard> {
    let filter = std::env::var(LOG_ENV)
        .ok()
        .filter(|f| !f.trim().is_empty())?;
    let filter = EnvFilter::try_new(&filter).unwrap_or_else(|e| {
        panic!("labrpc: {LOG_ENV}={filter:?} is not a valid log filter ({e}); try {LOG_ENV}=debug")
    });
    let subscriber = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .event_format(SimFormat)
        .with_test_writer()
        .finish();
    Some(tracing::subscriber::set_default(subscriber))
}

/// Formats one event with the virtual time and the node that logged it.
struct SimFormat;

impl<S, N> FormatEvent<S, N> for SimFormat
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    fn format_event(
        &self,
        ctx: &FmtContext<'_, S, N>,
        mut writer: Writer<'_>,
        event: &Event<'_>,
    ) -> fmt::Result {
        let (at, node) = try_with_world(|w| (w.clock.get(), w.node_name(w.current_node.get())))
            .unwrap_or_else(|| (Default::default(), "-".into()));
        let metadata = event.metadata();
        let target = metadata.target();
        let crate_name = target.split("::").next().unwrap_or(target);
        write!(
            writer,
            "[{at:>12}] {node:<6} {level:>5} {crate_name}: ",
            level = metadata.level()
        )?;
        ctx.field_format().format_fields(writer.by_ref(), event)?;
        writeln!(writer)
    }
}

impl fmt::Debug for SimFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SimFormat")
    }
}
