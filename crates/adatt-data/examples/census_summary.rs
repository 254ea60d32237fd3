//! Loads Census-Income with both protocols and prints the summary and the load time.
//!
//! `cargo run --release -p adatt-data --example census_summary [data_dir]`

use std::time::Instant;

use adatt_data::{load_census, CensusConfig, Protocol};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let data_dir = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "data/census-income".to_string());
    for protocol in [Protocol::Paper, Protocol::Clean] {
        let cfg = CensusConfig {
            data_dir: data_dir.clone().into(),
            protocol,
            split_seed: 1,
        };
        let t0 = Instant::now();
        let d = load_census(&cfg)?;
        let secs = t0.elapsed().as_secs_f64();
        print!("{}", d.summary());
        println!("load_census({protocol}): {secs:.2} s\n");
    }
    Ok(())
}
