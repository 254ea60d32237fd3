//! Figures with plotters, each written as PNG and SVG: AUC distributions per model (paper value
//! marked), training curves, heatmaps and line plots for sweeps.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use crate::AnalysisError;

/// DejaVu Sans (Bitstream Vera licence, see assets/DejaVuSans-LICENSE.txt), embedded so PNG text
/// renders on machines without fonts.
static FONT: &[u8] = include_bytes!("../assets/DejaVuSans.ttf");

fn ensure_font() {
    static ONCE: OnceLock<()> = OnceLock::new();
    ONCE.get_or_init(|| {
        for style in [FontStyle::Normal, FontStyle::Bold] {
            plotters::style::register_font("sans-serif", style, FONT)
                .map_err(|_| ())
                .expect("embedded font is valid");
        }
    });
}

fn perr<E: std::fmt::Debug>(path: &Path) -> impl Fn(E) -> AnalysisError + '_ {
    move |e| AnalysisError::Plot {
        path: path.to_owned(),
        message: format!("{e:?}"),
    }
}

/// Render with `$draw(root)` into `<stem>.png` and `<stem>.svg`; returns both paths.
macro_rules! both {
    ($stem:expr, $size:expr, $draw:expr) => {{
        ensure_font();
        let png = $stem.with_extension("png");
        let svg = $stem.with_extension("svg");
        {
            let root = BitMapBackend::new(&png, $size).into_drawing_area();
            root.fill(&WHITE).map_err(perr(&png))?;
            $draw(&root).map_err(perr(&png))?;
            root.present().map_err(perr(&png))?;
        }
        {
            let root = SVGBackend::new(&svg, $size).into_drawing_area();
            root.fill(&WHITE).map_err(perr(&svg))?;
            $draw(&root).map_err(perr(&svg))?;
            root.present().map_err(perr(&svg))?;
        }
        Ok(vec![png, svg])
    }};
}

/// Matplotlib's tab10: ten distinct colours, one per Table 5 row.
const PALETTE: [RGBColor; 10] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(127, 127, 127),
    RGBColor(188, 189, 34),
    RGBColor(23, 190, 207),
];

/// Per task: per entry the per-seed values and the paper value.
#[derive(Clone, Debug)]
pub struct Distribution {
    /// Panel title (task).
    pub task: String,
    /// (entry label, values, paper value).
    pub groups: Vec<(String, Vec<f64>, Option<f64>)>,
}

fn draw_distributions<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    panels: &[Distribution],
    y_desc: &str,
) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
    let areas = root.split_evenly((1, panels.len().max(1)));
    for (area, p) in areas.iter().zip(panels) {
        let k = p.groups.len();
        let all: Vec<f64> = p
            .groups
            .iter()
            .flat_map(|(_, v, paper)| v.iter().copied().chain(paper.iter().copied()))
            .filter(|x| x.is_finite())
            .collect();
        let (lo, hi) = all
            .iter()
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &x| {
                (a.min(x), b.max(x))
            });
        let (lo, hi) = if lo.is_finite() { (lo, hi) } else { (0.0, 1.0) };
        let pad = ((hi - lo) * 0.08).max(1e-3);
        let names: Vec<String> = p.groups.iter().map(|g| g.0.clone()).collect();
        let mut chart = ChartBuilder::on(area)
            .caption(&p.task, ("sans-serif", 22))
            .margin(12)
            .x_label_area_size(110)
            .y_label_area_size(60)
            .build_cartesian_2d(-0.5f64..(k as f64 - 0.5), (lo - pad)..(hi + pad))?;
        chart
            .configure_mesh()
            .disable_x_mesh()
            .light_line_style(TRANSPARENT)
            .y_labels(8)
            // Model names are drawn below, vertically, so that ten fit under a panel.
            .x_labels(0)
            .y_desc(y_desc)
            .y_label_formatter(&|y: &f64| format!("{y:.3}"))
            .draw()?;
        // Anchored at their first letter: the mesh centres its labels on the tick, which puts
        // half of a vertical name inside the plot.
        let name_style = TextStyle::from(
            ("sans-serif", 12)
                .into_font()
                .transform(FontTransform::Rotate90),
        )
        .pos(Pos::new(HPos::Left, VPos::Center));
        let base = root.get_base_pixel();
        for (i, name) in names.iter().enumerate() {
            let (x, y) = chart.backend_coord(&(i as f64, lo - pad));
            root.draw(&Text::new(
                name.clone(),
                (x - base.0, y - base.1 + 6),
                name_style.clone(),
            ))?;
        }
        for (i, (_, vals, paper)) in p.groups.iter().enumerate() {
            let c = PALETTE[i % PALETTE.len()];
            let x0 = i as f64;
            // Deterministic jitter.
            chart.draw_series(vals.iter().enumerate().filter(|(_, v)| v.is_finite()).map(
                |(j, &v)| {
                    let jit = ((j as f64 * 0.618_033_988_7).fract() - 0.5) * 0.5;
                    Circle::new((x0 + jit, v), 2, c.mix(0.45).filled())
                },
            ))?;
            let fin: Vec<f64> = vals.iter().copied().filter(|v| v.is_finite()).collect();
            if !fin.is_empty() {
                let m = fin.iter().sum::<f64>() / fin.len() as f64;
                chart.draw_series(std::iter::once(PathElement::new(
                    vec![(x0 - 0.32, m), (x0 + 0.32, m)],
                    BLACK.stroke_width(3),
                )))?;
            }
            if let Some(pv) = paper {
                chart.draw_series(std::iter::once(Cross::new(
                    (x0, *pv),
                    8,
                    RED.stroke_width(3),
                )))?;
            }
        }
    }
    Ok(())
}

/// AUC distributions per entry, one panel per task; black bar = our mean, red cross = paper.
pub fn distributions(
    stem: &Path,
    panels: &[Distribution],
    y_desc: &str,
) -> Result<Vec<PathBuf>, AnalysisError> {
    let k = panels.iter().map(|p| p.groups.len()).max().unwrap_or(1) as u32;
    let w = (120 + 40 * k).max(420) * panels.len().max(1) as u32;
    both!(stem, (w, 600), |root: &DrawingArea<_, Shift>| {
        draw_distributions(root, panels, y_desc)
    })
}

/// A line series.
#[derive(Clone, Debug)]
pub struct Series {
    /// Legend label.
    pub label: String,
    /// Points (x, y).
    pub points: Vec<(f64, f64)>,
}

/// One panel of lines.
#[derive(Clone, Debug)]
pub struct LinePanel {
    /// Title.
    pub title: String,
    /// Series.
    pub series: Vec<Series>,
}

fn draw_lines<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    panels: &[LinePanel],
    x_desc: &str,
    y_desc: &str,
) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
    let areas = root.split_evenly((1, panels.len().max(1)));
    for (area, p) in areas.iter().zip(panels) {
        let pts: Vec<(f64, f64)> = p
            .series
            .iter()
            .flat_map(|s| s.points.iter().copied())
            .filter(|(x, y)| x.is_finite() && y.is_finite())
            .collect();
        let fold = |f: fn(&(f64, f64)) -> f64| {
            pts.iter()
                .map(f)
                .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), x| {
                    (a.min(x), b.max(x))
                })
        };
        let (x0, x1) = fold(|p| p.0);
        let (y0, y1) = fold(|p| p.1);
        let (x0, x1) = if x0.is_finite() && x1 > x0 {
            (x0, x1)
        } else {
            (0.0, 1.0)
        };
        let (y0, y1) = if y0.is_finite() { (y0, y1) } else { (0.0, 1.0) };
        let pad = ((y1 - y0) * 0.08).max(1e-4);
        let mut chart = ChartBuilder::on(area)
            .caption(&p.title, ("sans-serif", 20))
            .margin(12)
            .x_label_area_size(45)
            .y_label_area_size(60)
            .build_cartesian_2d(x0..x1, (y0 - pad)..(y1 + pad))?;
        chart
            .configure_mesh()
            .light_line_style(TRANSPARENT)
            .x_desc(x_desc)
            .y_desc(y_desc)
            .y_label_formatter(&|y: &f64| format!("{y:.3}"))
            .draw()?;
        for (i, s) in p.series.iter().enumerate() {
            let c = PALETTE[i % PALETTE.len()];
            chart
                .draw_series(LineSeries::new(s.points.iter().copied(), c.stroke_width(2)))?
                .label(s.label.clone())
                .legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + 18, y)], c.stroke_width(2))
                });
        }
        chart
            .configure_series_labels()
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK)
            .label_font(("sans-serif", 12))
            .position(SeriesLabelPosition::LowerRight)
            .draw()?;
    }
    Ok(())
}

/// Line plots (training curves, sweeps), one panel per entry of `panels`.
pub fn lines(
    stem: &Path,
    panels: &[LinePanel],
    x_desc: &str,
    y_desc: &str,
) -> Result<Vec<PathBuf>, AnalysisError> {
    let w = 460 * panels.len().max(1) as u32;
    both!(stem, (w, 420), |root: &DrawingArea<_, Shift>| draw_lines(
        root, panels, x_desc, y_desc
    ))
}

/// A matrix heatmap.
#[derive(Clone, Debug)]
pub struct Heatmap {
    /// Title.
    pub title: String,
    /// Row labels.
    pub rows: Vec<String>,
    /// Column labels.
    pub cols: Vec<String>,
    /// Values, `values[row][col]`.
    pub values: Vec<Vec<f64>>,
}

fn draw_heatmaps<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    maps: &[Heatmap],
) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
    let areas = root.split_evenly((1, maps.len().max(1)));
    for (area, h) in areas.iter().zip(maps) {
        let nr = h.rows.len();
        let nc = h.cols.len();
        let (lo, hi) = h
            .values
            .iter()
            .flatten()
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &x| {
                (a.min(x), b.max(x))
            });
        let span = if hi > lo { hi - lo } else { 1.0 };
        let mut chart = ChartBuilder::on(area)
            .caption(&h.title, ("sans-serif", 20))
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(90)
            .build_cartesian_2d(0f64..nc as f64, 0f64..nr as f64)?;
        let cols = h.cols.clone();
        let rows = h.rows.clone();
        chart
            .configure_mesh()
            .disable_mesh()
            .x_labels(nc)
            .y_labels(nr)
            .x_label_formatter(&|x: &f64| label_at(&cols, *x))
            .y_label_formatter(&|y: &f64| label_at(&rows, nr as f64 - *y - 1.0 + 0.0))
            .draw()?;
        for (i, row) in h.values.iter().enumerate() {
            for (j, &v) in row.iter().enumerate() {
                let t = ((v - lo) / span).clamp(0.0, 1.0);
                let col = RGBColor((255.0 - 200.0 * t) as u8, (255.0 - 150.0 * t) as u8, 255);
                let y = (nr - 1 - i) as f64;
                chart.draw_series(std::iter::once(Rectangle::new(
                    [(j as f64, y), (j as f64 + 1.0, y + 1.0)],
                    col.filled(),
                )))?;
                chart.draw_series(std::iter::once(Text::new(
                    format!("{v:.2}"),
                    (j as f64 + 0.35, y + 0.55),
                    ("sans-serif", 16),
                )))?;
            }
        }
    }
    Ok(())
}

fn label_at(labels: &[String], x: f64) -> String {
    // Tick positions are at integer boundaries; label the cell to their right.
    let i = x.floor();
    if (x - i).abs() < 1e-6 && i >= 0.0 && (i as usize) < labels.len() {
        labels[i as usize].clone()
    } else {
        String::new()
    }
}

/// Heatmaps side by side (Figure 3 uses one per fusion level).
pub fn heatmaps(stem: &Path, maps: &[Heatmap]) -> Result<Vec<PathBuf>, AnalysisError> {
    let w = 440 * maps.len().max(1) as u32;
    both!(
        stem,
        (w, 420),
        |root: &DrawingArea<_, Shift>| draw_heatmaps(root, maps)
    )
}
