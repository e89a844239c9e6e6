//! `swrt wpt`: run web-platform-tests. The runner is the swrt_wpt crate.

use crate::cli::WptArgs;

pub async fn wpt(args: WptArgs) -> u8 {
    let options = swrt_wpt::Options {
        wpt_root: args.wpt_root,
        paths: args.paths,
        expectations: args.expectations,
        json: args.json,
        timeout_multiplier: args.timeout_multiplier,
        resources: args.resources,
        verbose: args.verbose,
    };
    let mut out = std::io::stdout();
    swrt_wpt::run(options, &mut out).await
}
