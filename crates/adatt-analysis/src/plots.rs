//! Figures with plotters, each written as PNG and SVG: AUC distributions per model (paper value
//! marked), training curves, heatmaps and line plots for sweeps.
//!
//! Every file is written atomically (see [`write_atomic`]): a figure is rendered into hidden
//! temporary files beside its targets and renamed into place only once both the PNG and the SVG
//! are complete, so a failure (a full disk, a drawing error, a panic) leaves the previous figure
//! as it was and no partial file behind.

use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use adatt_train::atomic::TempFile;

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

fn ioerr(path: &Path) -> impl Fn(io::Error) -> AnalysisError + '_ {
    move |source| AnalysisError::Io {
        path: path.to_owned(),
        source,
    }
}

/// Writes `bytes` to `path` atomically ([`adatt_train::atomic`]).
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), AnalysisError> {
    Ok(adatt_train::atomic::write(path, bytes)?)
}

/// Render with `$draw(root)` into `<stem>.png` and `<stem>.svg`; returns both paths. Both are
/// rendered into temporary files first and renamed into place only when both are complete.
macro_rules! both {
    ($stem:expr, $size:expr, $draw:expr) => {{
        ensure_font();
        let png = $stem.with_extension("png");
        let svg = $stem.with_extension("svg");
        let (png_tmp, file) = TempFile::beside(&png).map_err(ioerr(&png))?;
        drop(file);
        {
            let root = BitMapBackend::new(png_tmp.path(), $size).into_drawing_area();
            root.fill(&WHITE).map_err(perr(&png))?;
            $draw(&root).map_err(perr(&png))?;
            root.present().map_err(perr(&png))?;
        }
        png_tmp.sync().map_err(ioerr(&png))?;
        let mut text = String::new();
        {
            let root = SVGBackend::with_string(&mut text, $size).into_drawing_area();
            root.fill(&WHITE).map_err(perr(&svg))?;
            $draw(&root).map_err(perr(&svg))?;
            root.present().map_err(perr(&svg))?;
        }
        let svg_tmp = adatt_train::atomic::stage(&svg, |f| f.write_all(text.as_bytes()))?;
        png_tmp.persist(&png).map_err(ioerr(&png))?;
        svg_tmp.persist(&svg).map_err(ioerr(&svg))?;
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

/// Height of the key below the distribution panels.
const KEY_HEIGHT: u32 = 44;

fn draw_distributions<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    panels: &[Distribution],
    y_desc: &str,
) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
    let (_, h) = root.dim_in_pixel();
    let (top, key) = root.split_vertically(h.saturating_sub(KEY_HEIGHT));
    let areas = top.split_evenly((1, panels.len().max(1)));
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
        let base = top.get_base_pixel();
        for (i, name) in names.iter().enumerate() {
            let (x, y) = chart.backend_coord(&(i as f64, lo - pad));
            top.draw(&Text::new(
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
    let has_paper = panels
        .iter()
        .any(|p| p.groups.iter().any(|g| g.2.is_some()));
    draw_distribution_key(&key, has_paper)
}

/// The key below the distribution panels: what the dots, the bar and the cross mean, drawn with
/// the same marks as the panels, centred on one line.
fn draw_distribution_key<DB: DrawingBackend>(
    key: &DrawingArea<DB, Shift>,
    has_paper: bool,
) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
    #[derive(Clone, Copy)]
    enum Mark {
        Dots,
        Bar,
        Cross,
    }
    let mut items = vec![
        (Mark::Dots, "one seed (colour = model)"),
        (Mark::Bar, "mean over seeds"),
    ];
    if has_paper {
        items.push((Mark::Cross, "paper value"));
    }
    let font =
        TextStyle::from(("sans-serif", 14).into_font()).pos(Pos::new(HPos::Left, VPos::Center));
    const ICON: i32 = 30;
    const GAP: i32 = 8;
    const SEP: i32 = 36;
    let widths = items
        .iter()
        .map(|(_, t)| key.estimate_text_size(t, &font).map(|(w, _)| w as i32))
        .collect::<Result<Vec<_>, _>>()?;
    let total: i32 =
        widths.iter().map(|w| ICON + GAP + w).sum::<i32>() + SEP * (items.len() as i32 - 1);
    let (w, h) = key.dim_in_pixel();
    let y = h as i32 / 2;
    let mut x = ((w as i32 - total) / 2).max(16);
    // A thin frame around the key separates it from the rotated model names above.
    key.draw(&Rectangle::new(
        [(x - 12, y - 14), (x + total + 12, y + 14)],
        BLACK.mix(0.4).stroke_width(1),
    ))?;
    for ((mark, text), tw) in items.iter().zip(&widths) {
        let cx = x + ICON / 2;
        match mark {
            Mark::Dots => {
                for (i, dx) in [-8, 0, 8].into_iter().enumerate() {
                    let dy = [3, -3, 1][i];
                    key.draw(&Circle::new(
                        (cx + dx, y + dy),
                        3,
                        PALETTE[i].mix(0.7).filled(),
                    ))?;
                }
            }
            Mark::Bar => key.draw(&PathElement::new(
                vec![(cx - 12, y), (cx + 12, y)],
                BLACK.stroke_width(3),
            ))?,
            Mark::Cross => key.draw(&Cross::new((cx, y), 6, RED.stroke_width(3)))?,
        }
        key.draw(&Text::new(
            text.to_string(),
            (x + ICON + GAP, y),
            font.clone(),
        ))?;
        x += ICON + GAP + tw + SEP;
    }
    Ok(())
}

/// AUC distributions per entry, one panel per task; coloured dots = one seed each, black bar =
/// our mean, red cross = paper. A key below the panels says so.
pub fn distributions(
    stem: &Path,
    panels: &[Distribution],
    y_desc: &str,
) -> Result<Vec<PathBuf>, AnalysisError> {
    let k = panels.iter().map(|p| p.groups.len()).max().unwrap_or(1) as u32;
    let w = ((120 + 40 * k).max(420) * panels.len().max(1) as u32).max(640);
    both!(stem, (w, 600 + KEY_HEIGHT), |root: &DrawingArea<
        _,
        Shift,
    >| {
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

/// Series with at most this many points get a marker on each point.
const MARKER_MAX_POINTS: usize = 20;

/// At most this many labelled ticks on an integer x axis.
const MAX_INT_TICKS: usize = 11;

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
        // Epochs (and other counts): ticks at whole numbers only, labelled without decimals.
        let integral = !pts.is_empty() && pts.iter().all(|(x, _)| x.fract() == 0.0);
        let (x0, x1) = if !x0.is_finite() {
            (0.0, 1.0)
        } else if integral {
            // Room for the markers at both ends.
            let pad = ((x1 - x0) * 0.02).max(0.3);
            (x0 - pad, x1 + pad)
        } else if x1 > x0 {
            let pad = (x1 - x0) * 0.02;
            (x0 - pad, x1 + pad)
        } else {
            (x0 - 0.5, x0 + 0.5)
        };
        let (y0, y1) = if y0.is_finite() { (y0, y1) } else { (0.0, 1.0) };
        let pad = ((y1 - y0) * 0.08).max(1e-4);
        let mut chart = ChartBuilder::on(area)
            .caption(&p.title, ("sans-serif", 20))
            .margin(12)
            .x_label_area_size(45)
            .y_label_area_size(60)
            .build_cartesian_2d(x0..x1, (y0 - pad)..(y1 + pad))?;
        // With at most as many ticks as there are whole numbers in the range, plotters' steps
        // (1, 2, 5 times a power of ten) cannot go below 1.
        let whole = (x1.floor() - x0.ceil()).max(0.0) as usize + 1;
        let int_label = |x: &f64| {
            if (x - x.round()).abs() < 1e-9 {
                format!("{:.0}", x.round())
            } else {
                String::new()
            }
        };
        let mut mesh = chart.configure_mesh();
        mesh.light_line_style(TRANSPARENT)
            .x_desc(x_desc)
            .y_desc(y_desc)
            .y_label_formatter(&|y: &f64| format!("{y:.3}"));
        if integral {
            mesh.x_labels(whole.min(MAX_INT_TICKS))
                .x_label_formatter(&int_label);
        }
        mesh.draw()?;
        for (i, s) in p.series.iter().enumerate() {
            let c = PALETTE[i % PALETTE.len()];
            let finite = s
                .points
                .iter()
                .filter(|(x, y)| x.is_finite() && y.is_finite());
            let markers = finite.clone().count() <= MARKER_MAX_POINTS;
            let drawn =
                chart.draw_series(LineSeries::new(s.points.iter().copied(), c.stroke_width(2)))?;
            drawn.label(s.label.clone()).legend(move |(x, y)| {
                let line = PathElement::new(vec![(0, 0), (18, 0)], c.stroke_width(2));
                let style = if markers {
                    c.filled()
                } else {
                    TRANSPARENT.filled()
                };
                let dot = Circle::new((9, 0), 3, style);
                EmptyElement::at((x, y)) + line + dot
            });
            if markers {
                chart.draw_series(finite.map(|&p| Circle::new(p, 3, c.filled())))?;
            }
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
    /// Per cell a spread printed under the value as `± s` (e.g. the std over seeds); empty for
    /// none.
    pub spread: Vec<Vec<f64>>,
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
                let centre = |dy: f64| (j as f64 + 0.5, y + 0.5 + dy);
                let centred = Pos::new(HPos::Center, VPos::Center);
                let style = TextStyle::from(("sans-serif", 16).into_font()).pos(centred);
                let small = TextStyle::from(("sans-serif", 13).into_font()).pos(centred);
                let spread = h.spread.get(i).and_then(|r| r.get(j));
                chart.draw_series(std::iter::once(Text::new(
                    format!("{v:.2}"),
                    centre(if spread.is_some() { 0.12 } else { 0.0 }),
                    style,
                )))?;
                if let Some(sd) = spread {
                    chart.draw_series(std::iter::once(Text::new(
                        format!("± {sd:.2}"),
                        centre(-0.14),
                        small,
                    )))?;
                }
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::Cell;

    /// Names in `dir` that look like temporary files.
    fn temps(dir: &Path) -> Vec<String> {
        std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.contains(".tmp"))
            .collect()
    }

    fn maybe_fail<DB: DrawingBackend>(
        root: &DrawingArea<DB, Shift>,
        fail: bool,
    ) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
        if fail {
            return Err(DrawingAreaErrorKind::LayoutError);
        }
        root.draw(&Circle::new((10, 10), 5, RED.filled()))
    }

    /// A figure whose `fail_at`-th drawing (1: PNG, 2: SVG) fails.
    fn figure(stem: &Path, fail_at: u32) -> Result<Vec<PathBuf>, AnalysisError> {
        let calls = Cell::new(0);
        both!(stem, (60, 40), |root: &DrawingArea<_, Shift>| {
            calls.set(calls.get() + 1);
            maybe_fail(root, calls.get() == fail_at)
        })
    }

    #[test]
    fn failed_figure_keeps_previous_png_and_svg() {
        let d = tempfile::tempdir().unwrap();
        let stem = d.path().join("fig");
        let files = figure(&stem, 0).unwrap();
        assert_eq!(
            files,
            vec![stem.with_extension("png"), stem.with_extension("svg")]
        );
        let png = std::fs::read(&files[0]).unwrap();
        let svg = std::fs::read(&files[1]).unwrap();
        assert!(png.starts_with(b"\x89PNG"));
        assert!(String::from_utf8_lossy(&svg).contains("</svg>"));
        for fail_at in [1, 2] {
            let err = figure(&stem, fail_at).unwrap_err();
            assert!(matches!(err, AnalysisError::Plot { .. }), "{err:?}");
            // The PNG was complete when the SVG failed, yet neither was replaced.
            assert_eq!(std::fs::read(&files[0]).unwrap(), png);
            assert_eq!(std::fs::read(&files[1]).unwrap(), svg);
            assert!(temps(d.path()).is_empty(), "{:?}", temps(d.path()));
        }
    }

    #[test]
    fn figure_that_cannot_be_put_in_place_leaves_no_temp() {
        let d = tempfile::tempdir().unwrap();
        let stem = d.path().join("fig");
        // A directory where the PNG should go: the rename fails (even as root).
        std::fs::create_dir(stem.with_extension("png")).unwrap();
        std::fs::write(stem.with_extension("svg"), "old").unwrap();
        let err = figure(&stem, 0).unwrap_err();
        assert!(matches!(err, AnalysisError::Io { .. }), "{err:?}");
        assert_eq!(
            std::fs::read_to_string(stem.with_extension("svg")).unwrap(),
            "old"
        );
        assert!(temps(d.path()).is_empty(), "{:?}", temps(d.path()));
    }

    /// The texts of an SVG.
    fn svg_texts(svg: &str) -> Vec<String> {
        svg.split("<text")
            .skip(1)
            .filter_map(|t| {
                let t = &t[t.find('>')? + 1..];
                Some(t[..t.find("</text>")?].trim().to_string())
            })
            .collect()
    }

    fn lines_svg(panels: &[LinePanel]) -> String {
        ensure_font();
        let mut svg = String::new();
        {
            let root = SVGBackend::with_string(&mut svg, (460, 420)).into_drawing_area();
            draw_lines(&root, panels, "epoch", "mean validation AUC").unwrap();
            root.present().unwrap();
        }
        svg
    }

    fn curve(label: &str, epochs: usize) -> Series {
        Series {
            label: label.into(),
            points: (1..=epochs)
                .map(|e| (e as f64, 0.7 + 0.01 * (e as f64).sqrt()))
                .collect(),
        }
    }

    #[test]
    fn epoch_axis_has_integer_ticks_only() {
        for epochs in [2, 3, 5, 10, 11, 17, 40, 200] {
            let panel = LinePanel {
                title: "income".into(),
                series: vec![curve("adatt", epochs), curve("mmoe", epochs)],
            };
            let texts = svg_texts(&lines_svg(&[panel]));
            let numbers: Vec<&String> = texts.iter().filter(|t| t.parse::<f64>().is_ok()).collect();
            let ints: Vec<i64> = numbers.iter().filter_map(|t| t.parse().ok()).collect();
            // Every other number is a y label with three decimals.
            for t in &numbers {
                assert!(
                    t.parse::<i64>().is_ok() || t.split('.').nth(1).map(str::len) == Some(3),
                    "{epochs} epochs: tick label {t:?}"
                );
            }
            assert!(ints.len() >= 2, "{epochs} epochs: {ints:?}");
            // Within the padded range (2% of the span on either side).
            let slack = (epochs as i64 - 1) / 50;
            assert!(
                ints.iter()
                    .all(|&e| e >= 1 - slack && e <= epochs as i64 + slack),
                "{epochs} epochs: {ints:?}"
            );
            if epochs <= MAX_INT_TICKS {
                assert_eq!(ints, (1..=epochs as i64).collect::<Vec<_>>());
            }
        }
    }

    #[test]
    fn short_series_get_markers_long_ones_do_not() {
        let count = |epochs| {
            let panel = LinePanel {
                title: "t".into(),
                series: vec![curve("a", epochs), curve("b", epochs)],
            };
            let svg = lines_svg(&[panel]);
            // Transparent marks (the legend's dot of a long series) are not written.
            svg.matches("<circle").count()
        };
        // One per point, one per legend entry.
        assert_eq!(count(10), 2 * 10 + 2);
        assert_eq!(count(MARKER_MAX_POINTS), 2 * MARKER_MAX_POINTS + 2);
        assert_eq!(count(MARKER_MAX_POINTS + 1), 0);
    }

    fn distributions_svg(panels: &[Distribution]) -> String {
        ensure_font();
        let mut svg = String::new();
        {
            let root = SVGBackend::with_string(&mut svg, (900, 644)).into_drawing_area();
            draw_distributions(&root, panels, "test AUC").unwrap();
            root.present().unwrap();
        }
        svg
    }

    #[test]
    fn distributions_have_a_key() {
        let panel = |paper: Option<f64>| Distribution {
            task: "income".into(),
            groups: vec![
                ("adatt".into(), vec![0.94, 0.95, 0.945], paper),
                ("mmoe".into(), vec![0.93, 0.94], None),
            ],
        };
        let texts = svg_texts(&distributions_svg(&[panel(Some(0.9512))]));
        for t in [
            "one seed (colour = model)",
            "mean over seeds",
            "paper value",
        ] {
            assert!(texts.iter().any(|x| x == t), "{t:?} missing in {texts:?}");
        }
        // No paper values, no paper entry in the key.
        let texts = svg_texts(&distributions_svg(&[panel(None)]));
        assert!(texts.iter().any(|x| x == "mean over seeds"));
        assert!(!texts.iter().any(|x| x.contains("paper")), "{texts:?}");
    }
}
