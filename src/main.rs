use clap::Parser;

fn main() {
    std::process::exit(trainwreck::cli::run(trainwreck::cli::Cli::parse()));
}
