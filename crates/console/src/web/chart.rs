//! Charts as SVG drawn on the server: bars with a tooltip each (`<title>`), sizes as SVG
//! attributes and colours from the stylesheet, so no script and no inline style is needed.

use jiff::Timestamp;
use maud::{Markup, html};

use super::time::show_short;

/// One bar: its start time and count.
pub type Bar = (Timestamp, u64);

/// A histogram over time, `width`×`height` pixels, with the largest count and the first,
/// middle and last times as labels.
pub fn histogram(bars: &[Bar], width: u32, height: u32, class: &str) -> Markup {
    let max = bars.iter().map(|b| b.1).max().unwrap_or(0).max(1);
    let (left, bottom, top) = (40.0, 18.0, 6.0);
    let plot_w = f64::from(width) - left - 4.0;
    let plot_h = f64::from(height) - bottom - top;
    let n = bars.len().max(1) as f64;
    let slot = plot_w / n;
    let bar_w = (slot * 0.85).max(1.0);
    let labels: Vec<usize> = match bars.len() {
        0 => vec![],
        1 => vec![0],
        len => vec![0, len / 2, len - 1],
    };
    html! {
        svg class={ "chart " (class) } width=(width) height=(height) viewBox={ "0 0 " (width) " " (height) }
            role="img" xmlns="http://www.w3.org/2000/svg" {
            line.axis x1=(left) y1=(top + plot_h) x2=(left + plot_w) y2=(top + plot_h) {}
            text.label x=(left - 4.0) y=(top + 8.0) text-anchor="end" { (max) }
            text.label x=(left - 4.0) y=(top + plot_h) text-anchor="end" { "0" }
            @for (i, (start, count)) in bars.iter().enumerate() {
                @let h = (*count as f64 / max as f64) * plot_h;
                rect.bar x=(fmt(left + i as f64 * slot)) y=(fmt(top + plot_h - h)) width=(fmt(bar_w)) height=(fmt(h)) {
                    title { (show_short(*start)) " — " (count) }
                }
            }
            @for i in labels {
                // The first label starts at its bar and the last ends at its bar, so neither
                // is cut off at the edge.
                @let (x, anchor) = if i == 0 { (left, "start") } else if i + 1 == bars.len() { (left + plot_w, "end") } else { (left + i as f64 * slot + bar_w / 2.0, "middle") };
                text.label x=(fmt(x)) y=(height - 4) text-anchor=(anchor) { (show_short(bars[i].0)) }
            }
        }
    }
}

/// A small chart without labels, for one series among many (a tenant, a dataset).
pub fn sparkline(bars: &[Bar], width: u32, height: u32) -> Markup {
    let max = bars.iter().map(|b| b.1).max().unwrap_or(0).max(1);
    let n = bars.len().max(1) as f64;
    let slot = f64::from(width) / n;
    let h_total = f64::from(height);
    html! {
        svg.spark width=(width) height=(height) viewBox={ "0 0 " (width) " " (height) } xmlns="http://www.w3.org/2000/svg" {
            @for (i, (start, count)) in bars.iter().enumerate() {
                @let h = (*count as f64 / max as f64) * (h_total - 1.0);
                rect.bar x=(fmt(i as f64 * slot)) y=(fmt(h_total - h)) width=(fmt((slot * 0.85).max(1.0))) height=(fmt(h)) {
                    title { (show_short(*start)) " — " (count) }
                }
            }
        }
    }
}

fn fmt(v: f64) -> String {
    format!("{v:.1}")
}
