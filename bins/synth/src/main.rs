//! `phonehome-synth`: a developer tool that turns a scenario file into a capture.
//!
//! `phonehome-synth data/scenarios/macos-catalina-install.toml -o install.pcap`

use std::fs::File;
use std::io::BufWriter;
use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::Parser;
use phonehome_synth::{generate, GenerateOptions, Scenario};

/// Turn a scenario (data/scenarios/*.toml) into a capture, deterministically.
#[derive(Debug, Parser)]
#[command(name = "phonehome-synth", version)]
struct Args {
    /// The scenario file.
    scenario: PathBuf,
    /// Output capture.
    #[arg(short, long)]
    output: PathBuf,
    /// Write pcapng instead of pcap.
    #[arg(long)]
    pcapng: bool,
    /// Play the timeline N times in a row (large captures for benchmarks, constant memory).
    #[arg(long, default_value_t = 1, value_name = "N")]
    repeat: u32,
    /// Play the timeline as often as needed for a file of at least MIB mebibytes (overrides
    /// --repeat).
    #[arg(long, value_name = "MIB")]
    size: Option<u64>,
}

fn main() -> Result<()> {
    let args = Args::parse();
    let text = std::fs::read_to_string(&args.scenario)
        .with_context(|| args.scenario.display().to_string())?;
    let scenario = Scenario::parse(&text).with_context(|| args.scenario.display().to_string())?;
    let file = File::create(&args.output).with_context(|| args.output.display().to_string())?;
    let mut w = BufWriter::new(file);
    let mut opts = GenerateOptions {
        pcapng: args.pcapng,
        repeat: args.repeat,
    };
    if let Some(mib) = args.size {
        // One pass to a sink gives the size of one timeline.
        let one = generate(
            &scenario,
            GenerateOptions { repeat: 1, ..opts },
            &mut std::io::sink(),
        )?;
        let want = mib.saturating_mul(1 << 20);
        opts.repeat = u32::try_from(want.div_ceil(one.bytes.max(1)).max(1)).unwrap_or(u32::MAX);
    }
    let written =
        generate(&scenario, opts, &mut w).with_context(|| args.output.display().to_string())?;
    std::io::Write::flush(&mut w)?;
    eprintln!(
        "{}: {} frames, {} bytes",
        args.output.display(),
        written.frames,
        written.bytes
    );
    Ok(())
}
