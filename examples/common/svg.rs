//! Small SVG plotting helpers shared by the examples (`#[path]`-included):
//! tick spacing, path data that breaks at non-finite points, and a plot
//! panel with a linear x axis and a linear or logarithmic y axis.

use std::fmt::Write as _;

/// Font of every label.
pub const FONT: &str = r#"font-family="Helvetica, Arial, sans-serif""#;

/// A tick spacing of 1, 2, 2.5 or 5 times a power of ten giving about five ticks over `span`.
pub fn tick_step(span: f64) -> f64 {
    let raw = span / 5.0;
    let magnitude = 10f64.powf(raw.log10().floor());
    [1.0, 2.0, 2.5, 5.0, 10.0].into_iter().map(|m| m * magnitude).find(|&s| s >= raw).unwrap_or(10.0 * magnitude)
}

/// SVG path data through `points`, broken wherever a point is not finite.
pub fn path_data(points: impl Iterator<Item = (f64, f64)>) -> String {
    let mut d = String::new();
    let mut pen_down = false;
    for (x, y) in points {
        if x.is_finite() && y.is_finite() {
            d.push_str(&format!("{}{x:.1},{y:.1}", if pen_down { " L" } else { " M" }));
            pen_down = true;
        } else {
            pen_down = false;
        }
    }
    d.trim_start().to_owned()
}

/// A number as a short tick label: `0.25`, `1`, `2000`.
fn short(value: f64) -> String {
    let text = format!("{value:.2}");
    text.trim_end_matches('0').trim_end_matches('.').to_owned()
}

/// One plot area in an SVG document: pixel rectangle and data ranges.
pub struct Panel {
    /// Unique id, used for the clip path.
    pub id: &'static str,
    /// Left edge of the plot area, in pixels.
    pub left: f64,
    /// Top edge of the plot area, in pixels.
    pub top: f64,
    /// Width of the plot area, in pixels.
    pub width: f64,
    /// Height of the plot area, in pixels.
    pub height: f64,
    /// Data range of the x axis.
    pub x_range: (f64, f64),
    /// Data range of the y axis (powers of ten when `log_y`).
    pub y_range: (f64, f64),
    /// A base-10 logarithmic y axis.
    pub log_y: bool,
}

impl Panel {
    /// The pixel column of `x`.
    pub fn px(&self, x: f64) -> f64 {
        let (lo, hi) = self.x_range;
        self.left + (x - lo) / (hi - lo) * self.width
    }

    /// The pixel row of `y` (NaN for a non-positive value on a log axis).
    pub fn py(&self, y: f64) -> f64 {
        let map = |v: f64| if self.log_y { if v > 0.0 { v.log10() } else { f64::NAN } } else { v };
        let (lo, hi) = (map(self.y_range.0), map(self.y_range.1));
        self.top + self.height - (map(y) - lo) / (hi - lo) * self.height
    }

    /// Grid, ticks, tick labels, frame, axis labels and the panel's title;
    /// also defines the clip path that [`Panel::curve`] uses.
    pub fn axes(&self, out: &mut String, title: &str, x_label: &str, y_label: &str) -> std::fmt::Result {
        let (left, top, right, bottom) = (self.left, self.top, self.left + self.width, self.top + self.height);
        let grid = r##"stroke="#e6e6e6""##;
        let (x_lo, x_hi) = self.x_range;
        let x_step = tick_step(x_hi - x_lo);
        for k in (x_lo / x_step).ceil() as i64..=(x_hi / x_step).floor() as i64 {
            let x = k as f64 * x_step;
            let sx = self.px(x);
            writeln!(out, r#"<line x1="{sx:.1}" y1="{top}" x2="{sx:.1}" y2="{bottom}" {grid}/>"#)?;
            writeln!(out, r#"<line x1="{sx:.1}" y1="{bottom}" x2="{sx:.1}" y2="{}" stroke="black"/>"#, bottom + 5.0)?;
            let at = format!(r#"x="{sx:.1}" y="{}" text-anchor="middle""#, bottom + 19.0);
            writeln!(out, r#"<text {at} font-size="12" {FONT}>{}</text>"#, short(x))?;
        }
        let y_ticks: Vec<(f64, String)> = if self.log_y {
            let (lo, hi) = (self.y_range.0.log10().round() as i32, self.y_range.1.log10().round() as i32);
            let every = ((hi - lo) / 8 + 1).max(1) as usize;
            (lo..=hi).step_by(every).map(|e| (10f64.powi(e), format!("1e{e}"))).collect()
        } else {
            let (lo, hi) = self.y_range;
            let step = tick_step(hi - lo);
            let ks = (lo / step).ceil() as i64..=(hi / step).floor() as i64;
            ks.map(|k| (k as f64 * step, short(k as f64 * step))).collect()
        };
        for (y, label) in y_ticks {
            let sy = self.py(y);
            writeln!(out, r#"<line x1="{left}" y1="{sy:.1}" x2="{right}" y2="{sy:.1}" {grid}/>"#)?;
            writeln!(out, r#"<line x1="{}" y1="{sy:.1}" x2="{left}" y2="{sy:.1}" stroke="black"/>"#, left - 5.0)?;
            let at = format!(r#"x="{}" y="{:.1}" text-anchor="end""#, left - 8.0, sy + 4.0);
            writeln!(out, r#"<text {at} font-size="12" {FONT}>{label}</text>"#)?;
        }
        let (w, h) = (self.width, self.height);
        writeln!(out, r#"<rect x="{left}" y="{top}" width="{w}" height="{h}" fill="none" stroke="black"/>"#)?;
        let (mid_x, mid_y) = (left + w / 2.0, top + h / 2.0);
        let at = format!(r#"x="{mid_x}" y="{}" text-anchor="middle""#, bottom + 38.0);
        writeln!(out, r#"<text {at} font-size="14" {FONT}>{x_label}</text>"#)?;
        let (lx, rotate) = (left - 52.0, format!("rotate(-90 {} {mid_y})", left - 52.0));
        let at = format!(r#"x="{lx}" y="{mid_y}" text-anchor="middle" transform="{rotate}""#);
        writeln!(out, r#"<text {at} font-size="14" {FONT}>{y_label}</text>"#)?;
        let at = format!(r#"x="{mid_x}" y="{}" text-anchor="middle""#, top - 10.0);
        writeln!(out, r#"<text {at} font-size="15" font-weight="bold" {FONT}>{title}</text>"#)?;
        let id = self.id;
        writeln!(out, r#"<clipPath id="{id}"><rect x="{left}" y="{top}" width="{w}" height="{h}"/></clipPath>"#)
    }

    /// A curve through `(x, y)` data points, clipped to the panel.
    pub fn curve(&self, out: &mut String, points: impl Iterator<Item = (f64, f64)>, style: &str) -> std::fmt::Result {
        let d = path_data(points.map(|(x, y)| (self.px(x), self.py(y))));
        writeln!(out, r#"<path d="{d}" clip-path="url(#{})" stroke-linejoin="round" {style}/>"#, self.id)
    }

    /// A legend box in the panel's top-right corner: one line per `(style, label)`.
    pub fn legend(&self, out: &mut String, entries: &[(String, String)]) -> std::fmt::Result {
        let longest = entries.iter().map(|(_, label)| label.chars().count()).max().unwrap_or(0) as f64;
        let (w, h) = (48.0 + 6.6 * longest, 8.0 + 18.0 * entries.len() as f64);
        let (x, y) = (self.left + self.width - w - 8.0, self.top + 8.0);
        let frame = r##"fill="white" fill-opacity="0.9" stroke="#999""##;
        writeln!(out, r#"<rect x="{x:.1}" y="{y:.1}" width="{w:.1}" height="{h:.1}" {frame}/>"#)?;
        for (i, (style, label)) in entries.iter().enumerate() {
            let row = y + 16.0 + 18.0 * i as f64;
            writeln!(out, r#"<line x1="{:.1}" y1="{row:.1}" x2="{:.1}" y2="{row:.1}" {style}/>"#, x + 8.0, x + 36.0)?;
            let at = format!(r#"x="{:.1}" y="{:.1}""#, x + 42.0, row + 4.5);
            writeln!(out, r#"<text {at} font-size="12" {FONT}>{label}</text>"#)?;
        }
        Ok(())
    }
}

/// A complete SVG document of `width` x `height` pixels on a white background
/// with a centred `title` and `body`.
pub fn document(width: f64, height: f64, title: &str, body: &str) -> String {
    let mut out = String::new();
    out.push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    out.push_str(&format!(
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}">"#
    ));
    out.push_str("\n<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n");
    let at = format!(r#"x="{}" y="28" text-anchor="middle""#, width / 2.0);
    out.push_str(&format!("<text {at} font-size=\"17\" {FONT}>{title}</text>\n"));
    out.push_str(body);
    out.push_str("</svg>\n");
    out
}
