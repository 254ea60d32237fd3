//! Figures with plotters, each written as PNG and SVG: AUC distributions per model (paper value
//! marked), training curves, heatmaps and line plots for sweeps.
//!
//! Every file is written atomically (see [`write_atomic`]): a figure is rendered into hidden
//! temporary files beside its targets and renamed into place only once both the PNG and the SVG
//! are complete, so a failure (a full disk, a drawing error, a panic) leaves the previous figure
//! as it was and no partial file behind.

use std::io::{self, Write};
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use adatt_spec::atomic::TempFile;

use plotters::coord::types::RangedCoordf64;
use plotters::coord::Shift;
use plotters::element::DashedPathElement;
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

/// Writes `bytes` to `path` atomically ([`adatt_spec::atomic`]).
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), AnalysisError> {
    Ok(adatt_spec::atomic::write(path, bytes)?)
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
        let svg_tmp = adatt_spec::atomic::stage(&svg, |f| f.write_all(text.as_bytes()))?;
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

/// A line series: one of ours (a solid line in the palette's next colour, dots on the points
/// when there are at most [`MARKER_MAX_POINTS`] of them) or a reference (values from elsewhere,
/// e.g. the paper's on its own data: a dashed grey line with a cross on every point).
#[derive(Clone, Debug)]
pub struct Series {
    /// Legend label.
    pub label: String,
    /// Points (x, y). Points with a non-finite coordinate are skipped: the line is drawn over
    /// each run of consecutive finite points.
    pub points: Vec<(f64, f64)>,
    /// Per point the (low, high) of its 95% CI, in the order of `points` and of the same length
    /// ([`lines`] rejects any other length), or empty for none. Drawn as a translucent area in
    /// the series' colour under the line, over each run of consecutive points whose x, low and
    /// high are all finite (a NaN CI, e.g. for fewer than 3 seeds, breaks the band there); a run
    /// of one point is drawn as a translucent bar.
    pub band: Vec<(f64, f64)>,
    /// Values from elsewhere (the paper's), drawn apart from ours: dashed dark-grey line, a cross
    /// on every point, the legend entry alike. Reference series take no palette colour, so ours
    /// keep theirs.
    pub reference: bool,
}

impl Series {
    /// One of our series, without a band.
    pub fn line(label: impl Into<String>, points: Vec<(f64, f64)>) -> Self {
        Series {
            label: label.into(),
            points,
            band: Vec::new(),
            reference: false,
        }
    }

    /// This series with a 95% CI band (see [`Series::band`]).
    pub fn with_band(mut self, band: Vec<(f64, f64)>) -> Self {
        self.band = band;
        self
    }

    /// This series as a reference series (see [`Series::reference`]).
    pub fn as_reference(mut self) -> Self {
        self.reference = true;
        self
    }
}

/// One panel of lines.
#[derive(Clone, Debug)]
pub struct LinePanel {
    /// Title.
    pub title: String,
    /// Series.
    pub series: Vec<Series>,
    /// Draw a thin grey horizontal line at y = 0, and keep 0 in the y range (for differences
    /// to a reference row, where 0 means "same as the reference").
    pub zero_line: bool,
}

/// Series with at most this many points get a marker on each point (reference series always
/// do).
const MARKER_MAX_POINTS: usize = 20;

/// At most this many labelled ticks on an integer x axis.
const MAX_INT_TICKS: usize = 11;

/// Opacity of a CI band.
const BAND_ALPHA: f64 = 0.2;

/// Colour of reference series.
const REFERENCE: RGBColor = RGBColor(70, 70, 70);

/// Dash and gap lengths (pixels) of the first, second, ... reference series of a panel.
const REFERENCE_DASHES: [(i32, i32); 3] = [(7, 4), (2, 3), (12, 3)];

/// Legend font size; each legend line is 1.25 of it high (plotters' multi-line text).
const LEGEND_FONT: u32 = 12;

/// Maximal runs of consecutive items that pass `keep`.
fn runs<T: Copy>(items: impl IntoIterator<Item = T>, keep: impl Fn(&T) -> bool) -> Vec<Vec<T>> {
    let mut out: Vec<Vec<T>> = Vec::new();
    let mut open = false;
    for it in items {
        if keep(&it) {
            if !open {
                out.push(Vec::new());
                open = true;
            }
            out.last_mut().expect("a run is open").push(it);
        } else {
            open = false;
        }
    }
    out
}

fn finite_point(p: &(f64, f64)) -> bool {
    p.0.is_finite() && p.1.is_finite()
}

/// Runs of a series' band as (x, low, high); x from its points.
fn band_runs(s: &Series) -> Vec<Vec<(f64, f64, f64)>> {
    runs(
        s.points
            .iter()
            .zip(&s.band)
            .map(|(&(x, _), &(lo, hi))| (x, lo, hi)),
        |(x, lo, hi)| x.is_finite() && lo.is_finite() && hi.is_finite(),
    )
}

/// A y tick label with three decimals, without a "-0.000".
/// A y tick label with `decimals` decimals, without a minus sign on zero.
fn y_label(y: f64, decimals: usize) -> String {
    let s = format!("{y:.decimals$}");
    if s.trim_start_matches('-')
        .chars()
        .all(|c| c == '0' || c == '.')
    {
        s.trim_start_matches('-').to_string()
    } else {
        s
    }
}

/// Decimals that tell apart the ticks of a y range `span` wide (plotters puts about ten ticks on
/// it): at least 3, at most 6.
fn y_decimals(span: f64) -> usize {
    let step = span / 10.0;
    if step.is_finite() && step > 0.0 {
        ((-step.log10()).ceil().max(0.0) as usize).clamp(3, 6)
    } else {
        3
    }
}

/// The corners a legend may take, in order of preference on ties.
const LEGEND_CORNERS: [SeriesLabelPosition; 4] = [
    SeriesLabelPosition::LowerRight,
    SeriesLabelPosition::UpperRight,
    SeriesLabelPosition::UpperLeft,
    SeriesLabelPosition::LowerLeft,
];

/// A sampled pixel of what a panel draws: where (pixel), its y value, and how much covering it
/// matters (points more than lines, lines more than bands).
#[derive(Clone, Copy, Debug)]
struct Ink {
    px: (i32, i32),
    y: f64,
    weight: f64,
}

/// Pixels around the legend box that count as covered.
const LEGEND_SLACK: i32 = 6;

/// The legend box of `size` pixels in `corner` of the plotting area `plot`, widened by
/// [`LEGEND_SLACK`]: (x0, x1, y0, y1). plotters puts a legend 5 pixels in from the corner.
fn legend_box(
    corner: &SeriesLabelPosition,
    plot: &(Range<i32>, Range<i32>),
    size: (i32, i32),
) -> (i32, i32, i32, i32) {
    const IN: i32 = 5;
    let (xs, ys) = plot;
    let right = matches!(
        corner,
        SeriesLabelPosition::LowerRight | SeriesLabelPosition::UpperRight
    );
    let lower = matches!(
        corner,
        SeriesLabelPosition::LowerRight | SeriesLabelPosition::LowerLeft
    );
    let x0 = if right {
        xs.end - IN - size.0
    } else {
        xs.start + IN
    };
    let y0 = if lower {
        ys.end - IN - size.1
    } else {
        ys.start + IN
    };
    (
        x0 - LEGEND_SLACK,
        x0 + size.0 + LEGEND_SLACK,
        y0 - LEGEND_SLACK,
        y0 + size.1 + LEGEND_SLACK,
    )
}

/// Where a legend of `size` pixels goes in the plotting area `plot` (pixels) showing the y range
/// `y` (low, high): the first corner (in [`LEGEND_CORNERS`] order) whose box covers no ink, with
/// `y` as it is; else the corner that needs the least extra room above the data (upper corners)
/// or below it (lower corners) for the box to clear the ink under it, with `y` widened by that
/// room; else (the box would need more than half the height) the corner covering the least ink.
fn legend_place(
    plot: &(Range<i32>, Range<i32>),
    size: (i32, i32),
    ink: &[Ink],
    y: (f64, f64),
) -> (SeriesLabelPosition, (f64, f64)) {
    let covered = |corner: &SeriesLabelPosition| {
        let (x0, x1, y0, y1) = legend_box(corner, plot, size);
        ink.iter()
            .filter(|i| (x0..=x1).contains(&i.px.0) && (y0..=y1).contains(&i.px.1))
            .map(|i| i.weight)
            .sum::<f64>()
    };
    if let Some(c) = LEGEND_CORNERS.iter().find(|c| covered(c) == 0.0) {
        return (c.clone(), y);
    }
    let (lo, hi) = y;
    let height = (plot.1.end - plot.1.start).max(1) as f64;
    let mut best: Option<(f64, SeriesLabelPosition, (f64, f64))> = None;
    for corner in LEGEND_CORNERS {
        let (x0, x1, y0, y1) = legend_box(&corner, plot, size);
        let under = ink.iter().filter(|i| (x0..=x1).contains(&i.px.0));
        let upper = matches!(
            corner,
            SeriesLabelPosition::UpperLeft | SeriesLabelPosition::UpperRight
        );
        // The share of the height the box takes, from its edge of the plotting area.
        let f = if upper {
            (y1 - plot.1.start) as f64 / height
        } else {
            (plot.1.end - y0) as f64 / height
        };
        if f >= 0.5 {
            continue;
        }
        // The y range such that the extreme ink under the box sits a share `f` in from the
        // widened end.
        let range = if upper {
            let top = under.map(|i| i.y).fold(f64::NEG_INFINITY, f64::max);
            (lo, ((top - f * lo) / (1.0 - f)).max(hi))
        } else {
            let bottom = under.map(|i| i.y).fold(f64::INFINITY, f64::min);
            (((bottom - f * hi) / (1.0 - f)).min(lo), hi)
        };
        let extra = (range.1 - range.0) - (hi - lo);
        if extra.is_finite() && best.as_ref().is_none_or(|b| extra < b.0) {
            best = Some((extra, corner, range));
        }
    }
    if let Some((_, corner, range)) = best {
        return (corner, range);
    }
    let mut least = (f64::INFINITY, SeriesLabelPosition::LowerRight);
    for corner in LEGEND_CORNERS {
        let c = covered(&corner);
        if c < least.0 {
            least = (c, corner);
        }
    }
    (least.1, y)
}

/// Samples of what a panel draws, in data coordinates with weights (see [`Ink`]): the zero line
/// across `x`, bands, lines and points.
fn ink_samples(p: &LinePanel, x: (f64, f64)) -> Vec<((f64, f64), f64)> {
    let mut ink = Vec::new();
    if p.zero_line {
        for i in 0..=48 {
            ink.push(((x.0 + (x.1 - x.0) * i as f64 / 48.0, 0.0), 0.3));
        }
    }
    let lerp = |a: f64, b: f64, t: f64| a + (b - a) * t;
    for s in &p.series {
        for run in band_runs(s) {
            let steps = if run.len() == 1 { 0 } else { 12 };
            for w in run.windows(2.min(run.len())) {
                let (a, b) = (w[0], w[w.len() - 1]);
                for i in 0..=steps {
                    let t = if steps == 0 {
                        0.0
                    } else {
                        i as f64 / steps as f64
                    };
                    let (xx, lo, hi) = (lerp(a.0, b.0, t), lerp(a.1, b.1, t), lerp(a.2, b.2, t));
                    for k in 0..=8 {
                        ink.push(((xx, lerp(lo, hi, k as f64 / 8.0)), 0.3));
                    }
                }
            }
        }
        for run in runs(s.points.iter().copied(), finite_point) {
            for &pt in &run {
                ink.push((pt, 4.0));
            }
            for w in run.windows(2) {
                for i in 1..24 {
                    let t = i as f64 / 24.0;
                    ink.push(((lerp(w[0].0, w[1].0, t), lerp(w[0].1, w[1].1, t)), 1.0));
                }
            }
        }
    }
    ink
}

/// The chart of one line panel: f64 axes.
type LineChart<'a, DB> = ChartContext<'a, DB, Cartesian2d<RangedCoordf64, RangedCoordf64>>;

/// What a line panel's axes must show: the x range (padded for markers), the y range of the
/// data (0 included for a zero line) and the padding to put around it, and whether every x is a
/// whole number (epochs and other counts).
struct PanelRange {
    x: (f64, f64),
    y: (f64, f64),
    y_pad: f64,
    integral: bool,
}

impl PanelRange {
    /// The y range with its padding.
    fn y_padded(&self) -> (f64, f64) {
        (self.y.0 - self.y_pad, self.y.1 + self.y_pad)
    }
}

/// The ranges of everything a panel draws: finite points and finite band ends.
fn panel_range(p: &LinePanel) -> PanelRange {
    let mut pts: Vec<(f64, f64)> = Vec::new();
    for s in &p.series {
        pts.extend(s.points.iter().copied().filter(finite_point));
        for run in band_runs(s) {
            pts.extend(run.iter().flat_map(|&(x, lo, hi)| [(x, lo), (x, hi)]));
        }
    }
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
    let x = if !x0.is_finite() {
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
    let y = if p.zero_line {
        (y0.min(0.0), y1.max(0.0))
    } else {
        (y0, y1)
    };
    PanelRange {
        x,
        y,
        y_pad: ((y.1 - y.0) * 0.08).max(1e-4),
        integral,
    }
}

/// The legend's size as plotters lays it out: 30 pixels for the mark, a margin of 10 all
/// round, lines 1.25 of the font size high.
fn legend_size<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    p: &LinePanel,
) -> Result<(i32, i32), DrawingAreaErrorKind<DB::ErrorType>> {
    let font = TextStyle::from(("sans-serif", LEGEND_FONT).into_font());
    let mut text_w = 0;
    for s in &p.series {
        text_w = text_w.max(area.estimate_text_size(&s.label, &font)?.0 as i32);
    }
    Ok((
        text_w + 30 + 20,
        (p.series.len() as f64 * LEGEND_FONT as f64 * 1.25).ceil() as i32 + 20,
    ))
}

/// The legend's corner and the y range that makes room for it ([`legend_place`]), from a
/// chart laid out with the padded y range of `range`.
fn legend_corner<DB: DrawingBackend>(
    chart: &LineChart<'_, DB>,
    p: &LinePanel,
    range: &PanelRange,
    size: (i32, i32),
) -> (SeriesLabelPosition, (f64, f64)) {
    let ink: Vec<Ink> = ink_samples(p, range.x)
        .iter()
        .map(|&(pt, weight)| Ink {
            px: chart.backend_coord(&pt),
            y: pt.1,
            weight,
        })
        .collect();
    let plot = chart.plotting_area().get_pixel_range();
    legend_place(&plot, size, &ink, range.y_padded())
}

/// The axes, their labels and ticks (three to six decimals on y; whole numbers only on an
/// integral x axis), without a grid.
fn draw_mesh<DB: DrawingBackend>(
    chart: &mut LineChart<'_, DB>,
    range: &PanelRange,
    (x_desc, y_desc): (&str, &str),
) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
    let ((x0, x1), (y0, y1)) = (range.x, range.y);
    let decimals = y_decimals(y1 - y0 + 2.0 * range.y_pad);
    let y_label = move |y: &f64| y_label(*y, decimals);
    // With at most as many ticks as there are whole numbers in the range, plotters' steps
    // (1, 2, 5 times a power of ten) cannot go below 1.
    let whole = (x1.floor() - x0.ceil()).max(0.0) as usize + 1;
    // Counts of a million and more (examples seen) in millions: 2.8M, not 2800000.
    let millions = x1.abs() >= 1e6;
    let int_label = move |x: &f64| {
        if (x - x.round()).abs() >= 1e-9 {
            String::new()
        } else if millions {
            format!("{}M", x.round() / 1e6)
        } else {
            format!("{:.0}", x.round())
        }
    };
    let mut mesh = chart.configure_mesh();
    mesh.light_line_style(TRANSPARENT)
        .x_desc(x_desc)
        .y_desc(y_desc)
        .y_label_formatter(&y_label);
    if range.integral {
        mesh.x_labels(whole.min(MAX_INT_TICKS))
            .x_label_formatter(&int_label);
    }
    mesh.draw()
}

/// Per series its colour: ours take the palette in order, references are grey.
fn series_colours(p: &LinePanel) -> Vec<RGBColor> {
    let mut ours = 0;
    p.series
        .iter()
        .map(|s| {
            if s.reference {
                REFERENCE
            } else {
                ours += 1;
                PALETTE[(ours - 1) % PALETTE.len()]
            }
        })
        .collect()
}

/// Every series' CI band: a translucent area over each run, a translucent bar for a run of one
/// point.
fn draw_bands<DB: DrawingBackend>(
    chart: &mut LineChart<'_, DB>,
    p: &LinePanel,
    colours: &[RGBColor],
) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
    for (s, &c) in p.series.iter().zip(colours) {
        for run in band_runs(s) {
            if let [(x, lo, hi)] = run[..] {
                chart.draw_series(std::iter::once(PathElement::new(
                    vec![(x, lo), (x, hi)],
                    c.mix(BAND_ALPHA).stroke_width(8),
                )))?;
            } else {
                let outline: Vec<(f64, f64)> = run
                    .iter()
                    .map(|&(x, _, hi)| (x, hi))
                    .chain(run.iter().rev().map(|&(x, lo, _)| (x, lo)))
                    .collect();
                chart.draw_series(std::iter::once(Polygon::new(
                    outline,
                    c.mix(BAND_ALPHA).filled(),
                )))?;
            }
        }
    }
    Ok(())
}

/// Every series' line and points, with its legend entry (a patch of its band's colour under
/// the mark when it has a band); the k-th reference series of the panel takes the k-th dash.
fn draw_series_lines<'a, DB: DrawingBackend + 'a>(
    chart: &mut LineChart<'a, DB>,
    p: &LinePanel,
    colours: &[RGBColor],
) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
    let mut references = 0;
    for (s, &c) in p.series.iter().zip(colours) {
        let line_runs = runs(s.points.iter().copied(), finite_point);
        let band = if band_runs(s).is_empty() {
            TRANSPARENT.filled()
        } else {
            c.mix(BAND_ALPHA).filled()
        };
        if s.reference {
            let dash = REFERENCE_DASHES[references % REFERENCE_DASHES.len()];
            references += 1;
            draw_reference_series(chart, s, &line_runs, c.stroke_width(2), dash, band)?;
        } else {
            draw_our_series(chart, s, &line_runs, c, band)?;
        }
    }
    Ok(())
}

/// A reference series: dashed `(dash, gap)` lines over its runs and a cross on every point.
fn draw_reference_series<'a, DB: DrawingBackend + 'a>(
    chart: &mut LineChart<'a, DB>,
    s: &Series,
    line_runs: &[Vec<(f64, f64)>],
    style: ShapeStyle,
    (dash, gap): (i32, i32),
    band: ShapeStyle,
) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
    chart
        .draw_series(
            line_runs
                .iter()
                .map(|r| DashedPathElement::new(r.clone(), dash, gap, style)),
        )?
        .label(s.label.clone())
        .legend(move |(x, y)| {
            EmptyElement::at((x, y))
                + Rectangle::new([(0, -5), (20, 5)], band)
                + DashedPathElement::new(vec![(0, 0), (20, 0)], dash, gap, style)
                + Cross::new((10, 0), 4, style)
        });
    chart.draw_series(
        line_runs
            .iter()
            .flatten()
            .map(|&pt| Cross::new(pt, 5, style)),
    )?;
    Ok(())
}

/// One of our series: solid lines over its runs in colour `c`, and a dot on every point when
/// it has at most [`MARKER_MAX_POINTS`] of them.
fn draw_our_series<'a, DB: DrawingBackend + 'a>(
    chart: &mut LineChart<'a, DB>,
    s: &Series,
    line_runs: &[Vec<(f64, f64)>],
    c: RGBColor,
    band: ShapeStyle,
) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
    let n: usize = line_runs.iter().map(Vec::len).sum();
    let markers = n <= MARKER_MAX_POINTS;
    let dot = if markers {
        c.filled()
    } else {
        TRANSPARENT.filled()
    };
    chart
        .draw_series(
            line_runs
                .iter()
                .map(|r| PathElement::new(r.clone(), c.stroke_width(2))),
        )?
        .label(s.label.clone())
        .legend(move |(x, y)| {
            EmptyElement::at((x, y))
                + Rectangle::new([(0, -5), (20, 5)], band)
                + PathElement::new(vec![(0, 0), (20, 0)], c.stroke_width(2))
                + Circle::new((10, 0), 3, dot)
        });
    if markers {
        chart.draw_series(
            line_runs
                .iter()
                .flatten()
                .map(|&pt| Circle::new(pt, 3, c.filled())),
        )?;
    }
    Ok(())
}

/// One panel of [`lines`] in `area`: title, axes, the zero line, bands under the lines and
/// points, and the legend where it covers the least ([`legend_place`]).
fn draw_line_panel<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    p: &LinePanel,
    desc: (&str, &str),
) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
    let range = panel_range(p);
    let (x0, x1) = range.x;
    // The title as ChartBuilder's caption draws it; the chart is laid out twice below, and
    // building a chart draws nothing else.
    let body = area
        .margin(12, 12, 12, 12)
        .titled(&p.title, ("sans-serif", 20))?;
    let build = |y: (f64, f64)| {
        ChartBuilder::on(&body)
            .x_label_area_size(45)
            .y_label_area_size(60)
            .build_cartesian_2d(x0..x1, y.0..y.1)
    };
    let size = legend_size(area, p)?;
    let (corner, y_range) = legend_corner(&build(range.y_padded())?, p, &range, size);
    let mut chart = build(y_range)?;
    draw_mesh(&mut chart, &range, desc)?;
    if p.zero_line {
        chart.draw_series(std::iter::once(PathElement::new(
            vec![(x0, 0.0), (x1, 0.0)],
            BLACK.mix(0.45).stroke_width(1),
        )))?;
    }
    let colours = series_colours(p);
    // All bands first, so that no band covers a line.
    draw_bands(&mut chart, p, &colours)?;
    draw_series_lines(&mut chart, p, &colours)?;
    chart
        .configure_series_labels()
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .label_font(("sans-serif", LEGEND_FONT))
        .position(corner)
        .draw()
}

/// The panels of [`lines`] side by side in `root`.
fn draw_lines<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    panels: &[LinePanel],
    x_desc: &str,
    y_desc: &str,
) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
    let areas = root.split_evenly((1, panels.len().max(1)));
    for (area, p) in areas.iter().zip(panels) {
        draw_line_panel(area, p, (x_desc, y_desc))?;
    }
    Ok(())
}

/// Line plots (training curves, sweeps with CI bands and reference values), one panel per entry
/// of `panels`. A series whose band is neither empty nor as long as its points is an error.
pub fn lines(
    stem: &Path,
    panels: &[LinePanel],
    x_desc: &str,
    y_desc: &str,
) -> Result<Vec<PathBuf>, AnalysisError> {
    for p in panels {
        for s in &p.series {
            if !s.band.is_empty() && s.band.len() != s.points.len() {
                return Err(AnalysisError::Plot {
                    path: stem.with_extension("png"),
                    message: format!(
                        "panel {:?}, series {:?}: {} band entries for {} points",
                        p.title,
                        s.label,
                        s.band.len(),
                        s.points.len()
                    ),
                });
            }
        }
    }
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
            // Cell (i, j) spans [j - 0.5, j + 0.5]: the ticks, at whole numbers, fall on the
            // cell centres and carry the row and column labels.
            .build_cartesian_2d(-0.5f64..nc as f64 - 0.5, -0.5f64..nr as f64 - 0.5)?;
        let cols = h.cols.clone();
        let rows = h.rows.clone();
        chart
            .configure_mesh()
            .disable_mesh()
            .x_labels(nc)
            .y_labels(nr)
            .x_label_formatter(&|x: &f64| label_at(&cols, *x))
            .y_label_formatter(&|y: &f64| label_at(&rows, nr as f64 - 1.0 - *y))
            .draw()?;
        for (i, row) in h.values.iter().enumerate() {
            for (j, &v) in row.iter().enumerate() {
                let t = ((v - lo) / span).clamp(0.0, 1.0);
                let col = RGBColor((255.0 - 200.0 * t) as u8, (255.0 - 150.0 * t) as u8, 255);
                let y = (nr - 1 - i) as f64;
                chart.draw_series(std::iter::once(Rectangle::new(
                    [(j as f64 - 0.5, y - 0.5), (j as f64 + 0.5, y + 0.5)],
                    col.filled(),
                )))?;
                let centre = |dy: f64| (j as f64, y + dy);
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

/// The label of the cell centred on tick `x` (a whole number), or none between cells.
fn label_at(labels: &[String], x: f64) -> String {
    let i = x.round();
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

    /// Every row and column of a heatmap is labelled once, each label at its cell's centre
    /// (the labels sat on cell edges and the middle one went missing).
    #[test]
    fn heatmap_rows_and_columns_are_all_labelled() {
        ensure_font();
        let names: Vec<String> = ["education", "income", "never_married"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let map = Heatmap {
            title: "t".into(),
            rows: names.clone(),
            cols: names.clone(),
            values: vec![
                vec![1.8, 0.1, 0.1],
                vec![0.2, 1.7, 0.1],
                vec![0.1, 0.1, 1.9],
            ],
            spread: Vec::new(),
        };
        let mut svg = String::new();
        {
            let root = SVGBackend::with_string(&mut svg, (440, 420)).into_drawing_area();
            draw_heatmaps(&root, std::slice::from_ref(&map)).unwrap();
            root.present().unwrap();
        }
        let texts = svg_texts(&svg);
        for n in &names {
            let count = texts.iter().filter(|t| *t == n).count();
            assert_eq!(
                count, 2,
                "{n}: once as a row, once as a column label in {texts:?}"
            );
        }
    }

    fn curve(label: &str, epochs: usize) -> Series {
        Series::line(
            label,
            (1..=epochs)
                .map(|e| (e as f64, 0.7 + 0.01 * (e as f64).sqrt()))
                .collect(),
        )
    }

    #[test]
    fn epoch_axis_has_integer_ticks_only() {
        for epochs in [2, 3, 5, 10, 11, 17, 40, 200] {
            let panel = LinePanel {
                title: "income".into(),
                series: vec![curve("adatt", epochs), curve("mmoe", epochs)],
                zero_line: false,
            };
            let texts = svg_texts(&lines_svg(&[panel]));
            let numbers: Vec<&String> = texts.iter().filter(|t| t.parse::<f64>().is_ok()).collect();
            let ints: Vec<i64> = numbers.iter().filter_map(|t| t.parse().ok()).collect();
            // Every other number is a y label with at least three decimals, as many as tell
            // the ticks apart (a narrow range had repeated labels like 0.894, 0.894).
            let y_labels: Vec<&String> = numbers
                .iter()
                .copied()
                .filter(|t| t.parse::<i64>().is_err())
                .collect();
            for t in &y_labels {
                assert!(
                    t.split('.').nth(1).map(str::len) >= Some(3),
                    "{epochs} epochs: tick label {t:?}"
                );
            }
            let distinct: std::collections::BTreeSet<&&String> = y_labels.iter().collect();
            assert_eq!(
                distinct.len(),
                y_labels.len(),
                "{epochs} epochs: {y_labels:?}"
            );
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
                zero_line: false,
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

    /// Three panels like the sweep figures (Table 7: experts per task), NE differences to the
    /// first row with 95% CI bands (one NaN CI in the second panel) and the paper's values.
    fn sweep_panels() -> Vec<LinePanel> {
        let paper = vec![(1.0, 0.0), (2.0, -0.171), (3.0, -0.248), (4.0, -0.260)];
        [
            ("education", [0.0, -0.12, -0.21, -0.18], 0.25),
            ("income", [0.0, -0.08, -0.15, -0.22], 0.18),
            ("never_married", [0.0, 0.05, -0.10, -0.06], 0.22),
        ]
        .iter()
        .enumerate()
        .map(|(t, (task, ys, half))| {
            let points: Vec<(f64, f64)> = ys
                .iter()
                .enumerate()
                .map(|(i, &y)| ((i + 1) as f64, y))
                .collect();
            let band = points
                .iter()
                .enumerate()
                .map(|(i, &(_, y))| {
                    if t == 1 && i == 2 {
                        (f64::NAN, f64::NAN)
                    } else {
                        let h = if i == 0 {
                            0.0
                        } else {
                            half * (0.8 + 0.1 * i as f64)
                        };
                        (y - h, y + h)
                    }
                })
                .collect();
            LinePanel {
                title: task.to_string(),
                series: vec![
                    Series::line("ours (mean, 95% CI)", points).with_band(band),
                    Series::line("paper (Table 7)", paper.clone()).as_reference(),
                ],
                zero_line: true,
            }
        })
        .collect()
    }

    #[test]
    fn sweep_figure_has_bands_reference_and_zero_line() {
        let d = tempfile::tempdir().unwrap();
        let panels = vec![LinePanel {
            title: "income".into(),
            series: vec![
                Series::line(
                    "ours",
                    vec![(1.0, 0.0), (2.0, -0.1), (3.0, -0.2), (4.0, -0.15)],
                )
                .with_band(vec![
                    (-0.1, 0.1),
                    (-0.3, 0.1),
                    (f64::NAN, f64::NAN),
                    (-0.4, 0.1),
                ]),
                Series::line(
                    "paper",
                    vec![(1.0, 0.0), (2.0, -0.171), (3.0, -0.248), (4.0, -0.260)],
                )
                .as_reference(),
            ],
            zero_line: true,
        }];
        let files = lines(
            &d.path().join("sweep"),
            &panels,
            "experts per task",
            "NE diff",
        )
        .unwrap();
        let png = std::fs::read(&files[0]).unwrap();
        assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"));
        let svg = std::fs::read_to_string(&files[1]).unwrap();
        assert!(svg.trim_end().ends_with("</svg>"));
        assert!(!svg.contains("NaN"));
        // The band: one translucent area over points 1-2, a translucent bar at point 4 (the
        // NaN CI at point 3 breaks it), and a translucent patch in the legend.
        let polygons: Vec<&str> = svg.split("<polygon").skip(1).collect();
        assert_eq!(polygons.len(), 1, "{polygons:?}");
        assert!(
            polygons[0].contains(r##"fill="#1F77B4""##),
            "{}",
            polygons[0]
        );
        assert!(polygons[0].contains(r#"opacity="0.2""#), "{}", polygons[0]);
        assert_eq!(
            svg.matches(r##"opacity="0.2" stroke="#1F77B4" stroke-width="8""##)
                .count(),
            1
        );
        assert!(svg.contains(r##"opacity="0.2" fill="#1F77B4""##));
        // Our dots (4 points + legend), the reference's crosses in grey; both labels.
        assert_eq!(svg.matches("<circle").count(), 5);
        assert!(svg.contains(r##"stroke="#464646""##));
        let texts = svg_texts(&svg);
        for t in ["ours", "paper", "0.000"] {
            assert!(texts.iter().any(|x| x == t), "{t:?} missing in {texts:?}");
        }
        assert!(!texts.iter().any(|x| x == "-0.000"), "{texts:?}");

        if let Some(out) = std::env::var_os("ADATT_PLOT_SAMPLES_DIR") {
            let out = Path::new(&out);
            std::fs::create_dir_all(out).unwrap();
            lines(
                &out.join("sweep"),
                &sweep_panels(),
                "experts per task",
                "NE diff to 1 expert per task (%)",
            )
            .unwrap();
        }
    }

    #[test]
    fn zero_line_is_drawn_and_in_range() {
        let panel = |zero_line| LinePanel {
            title: "t".into(),
            series: vec![Series::line("a", vec![(1.0, 0.5), (2.0, 0.6)])],
            zero_line,
        };
        let grey = r##"opacity="0.45" stroke="#000000" stroke-width="1""##;
        let with = lines_svg(&[panel(true)]);
        assert_eq!(with.matches(grey).count(), 1);
        assert!(svg_texts(&with).iter().any(|t| t == "0.000"));
        let without = lines_svg(&[panel(false)]);
        assert_eq!(without.matches(grey).count(), 0);
        assert!(!svg_texts(&without).iter().any(|t| t == "0.000"));
    }

    #[test]
    fn band_of_wrong_length_is_an_error() {
        let d = tempfile::tempdir().unwrap();
        let panels = vec![LinePanel {
            title: "t".into(),
            series: vec![
                Series::line("a", vec![(1.0, 0.5), (2.0, 0.6)]).with_band(vec![(0.4, 0.6)])
            ],
            zero_line: false,
        }];
        let err = lines(&d.path().join("f"), &panels, "x", "y").unwrap_err();
        assert!(matches!(err, AnalysisError::Plot { .. }), "{err:?}");
        assert!(std::fs::read_dir(d.path()).unwrap().next().is_none());
    }

    #[test]
    fn non_finite_values_split_runs() {
        let r = runs([1.0, f64::NAN, 2.0, 3.0, f64::INFINITY, 4.0], |x: &f64| {
            x.is_finite()
        });
        assert_eq!(r, vec![vec![1.0], vec![2.0, 3.0], vec![4.0]]);
        assert!(runs([f64::NAN], |x: &f64| x.is_finite()).is_empty());
    }

    #[test]
    fn legend_goes_to_an_empty_corner_or_makes_room() {
        // A plotting area of 400 x 300 pixels showing y in 0..1.
        let plot = (0..400, 0..300);
        let at = |x: i32, y: i32| Ink {
            px: (x, y),
            y: (300 - y) as f64 / 300.0,
            weight: 1.0,
        };
        let place = |size, ink: &[Ink]| legend_place(&plot, size, ink, (0.0, 1.0));
        let small = (100, 40);
        // Nothing drawn: the default, lower right.
        assert_eq!(
            place(small, &[]),
            (SeriesLabelPosition::LowerRight, (0.0, 1.0))
        );
        // Ink in the lower right, then in both right corners: the next free corner.
        let mut ink = vec![at(350, 280)];
        assert_eq!(place(small, &ink).0, SeriesLabelPosition::UpperRight);
        ink.push(at(350, 30));
        assert_eq!(
            place(small, &ink),
            (SeriesLabelPosition::UpperLeft, (0.0, 1.0))
        );
        // Ink in every corner: room above the upper right, where the ink is lowest (y = 0.9),
        // so that it ends up just under the box (5 + 40 + 6 = 51 pixels from the top).
        ink.extend([at(20, 20), at(20, 280)]);
        let (corner, (lo, hi)) = place(small, &ink);
        assert_eq!(corner, SeriesLabelPosition::UpperRight);
        assert_eq!(lo, 0.0);
        let f = 51.0 / 300.0;
        assert!((hi - 0.9 / (1.0 - f)).abs() < 1e-9, "{hi}");
        assert!(((hi - 0.9) / hi - f).abs() < 1e-9);
        // A box taller than half the area: the corner covering the least ink, no room made.
        ink.extend([at(20, 21), at(21, 22), at(351, 281), at(352, 282)]);
        assert_eq!(
            place((100, 200), &ink),
            (SeriesLabelPosition::UpperRight, (0.0, 1.0))
        );
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
