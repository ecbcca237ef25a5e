//! The port map: one bar per range, its occupied, free and reserved ports,
//! protected ranges outlined.

use std::fmt::Write as _;

use super::{assigned_ports, depths, occupancy, protected_flags, reserved_intervals, title};
use crate::report::escape_text;
use crate::{BindPolicy, Convention};

const WIDTH: f64 = 960.0;
const BAR_X: f64 = 330.0;
const BAR_W: f64 = 480.0;
const ROW_H: f64 = 40.0;
const TOP: f64 = 56.0;
const OCCUPIED: &str = "#1f5fbf";
const FREE: &str = "#cfeccf";
const RESERVED: &str = "#bdbdbd";
const PROTECTED: &str = "#c62828";
/// Rows drawn at most: a convention with more ranges gets a note instead of
/// a picture nobody could read (and output stays bounded).
const MAX_ROWS: usize = 400;

/// XML text: unsafe characters shown visibly, markup characters escaped.
fn xml(text: &str) -> String {
    escape_text(text)
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&apos;")
}

/// The SVG port map of the convention's ranges: per range a bar scaled to
/// its ports, occupied ports dark, free ports light, reserved ports grey and
/// hatched, protected ranges outlined in red; the counts beside each bar.
pub fn svg(convention: &Convention) -> String {
    let rows = convention.ranges.len().min(MAX_ROWS);
    let height = TOP + ROW_H * rows.max(1) as f64 + 70.0;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{WIDTH}\" height=\"{height}\" viewBox=\"0 0 {WIDTH} {height}\" font-family=\"DejaVu Sans, Verdana, sans-serif\" font-size=\"13\">"
    );
    let _ = writeln!(
        out,
        "<title>Port map of {}</title>",
        xml(&title(convention))
    );
    let _ = writeln!(
        out,
        "<defs><pattern id=\"hatch\" width=\"6\" height=\"6\" patternUnits=\"userSpaceOnUse\" patternTransform=\"rotate(45)\"><rect width=\"6\" height=\"6\" fill=\"{RESERVED}\"/><line x1=\"0\" y1=\"0\" x2=\"0\" y2=\"6\" stroke=\"#8a8a8a\" stroke-width=\"2\"/></pattern></defs>"
    );
    let _ = writeln!(
        out,
        "<rect width=\"{WIDTH}\" height=\"{height}\" fill=\"#ffffff\"/>"
    );
    let _ = writeln!(
        out,
        "<text x=\"16\" y=\"30\" font-size=\"18\" font-weight=\"bold\">Port map: {} (version {})</text>",
        xml(&title(convention)),
        xml(&convention.version.to_string())
    );
    if convention.ranges.is_empty() {
        let _ = writeln!(
            out,
            "<text x=\"16\" y=\"{}\">No ranges are declared.</text>",
            TOP + 20.0
        );
    }
    let occ = occupancy(convention);
    let depth = depths(convention);
    let protected = protected_flags(convention);
    let assigned: Vec<u16> = assigned_ports(convention).into_iter().collect();
    let reserved = reserved_intervals(convention);
    // The sub-ranges of every range (clipped to it), for the ticks.
    let mut children: Vec<Vec<(u32, u32)>> = vec![Vec::new(); convention.ranges.len()];
    for r in &convention.ranges {
        if let Some(list) = r.parent.and_then(|p| children.get_mut(p)) {
            list.push((u32::from(r.ports.start()), u32::from(r.ports.end())));
        }
    }
    for (i, r) in convention.ranges.iter().enumerate().take(rows) {
        let y = TOP + ROW_H * i as f64;
        let d = depth.get(i).copied().unwrap_or(0).min(10) as f64;
        let (start, end) = (u32::from(r.ports.start()), u32::from(r.ports.end()));
        let size = (end - start + 1) as f64;
        let x_of =
            |port: u32| BAR_X + (f64::from(port.clamp(start, end + 1) - start) * BAR_W / size);
        let _ = writeln!(
            out,
            "<text x=\"{:.1}\" y=\"{:.1}\" font-weight=\"bold\">{}</text>",
            16.0 + d * 16.0,
            y + 15.0,
            xml(&r.name)
        );
        let mut policy = vec![r.ports.to_string()];
        if protected.get(i).copied().unwrap_or(false) {
            policy.push("protected".into());
        }
        if r.reserved {
            policy.push("reserved".into());
        }
        if r.bind == BindPolicy::Loopback {
            policy.push("loopback".into());
        }
        let _ = writeln!(
            out,
            "<text x=\"{:.1}\" y=\"{:.1}\" font-size=\"11\" fill=\"#444444\">{}</text>",
            16.0 + d * 16.0,
            y + 30.0,
            xml(&policy.join(" · "))
        );
        // The bar: free, then reserved, then occupied on top.
        let fill = if r.reserved { "url(#hatch)" } else { FREE };
        let _ = writeln!(
            out,
            "<rect x=\"{BAR_X}\" y=\"{:.1}\" width=\"{BAR_W}\" height=\"20\" fill=\"{fill}\"/>",
            y + 6.0
        );
        if !r.reserved {
            let first = reserved.partition_point(|&(_, e)| u32::from(e) < start);
            let mut last_px = f64::NEG_INFINITY;
            for &(s, e) in reserved.get(first..).unwrap_or(&[]) {
                let (s, e) = (u32::from(s), u32::from(e));
                if s > end {
                    break;
                }
                let (a, b) = (s.max(start), e.min(end));
                let (x0, x1) = (x_of(a), x_of(b + 1));
                if x1 - last_px < 0.5 {
                    continue;
                }
                last_px = x1;
                let _ = writeln!(
                    out,
                    "<rect x=\"{x0:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"20\" fill=\"url(#hatch)\"/>",
                    y + 6.0,
                    (x1 - x0).max(1.0)
                );
            }
        }
        // Occupied ports, merged into runs of at least 2 px.
        let lo = assigned.partition_point(|p| u32::from(*p) < start);
        let mut run: Option<(f64, f64)> = None;
        let mut runs = Vec::new();
        for &port in assigned.get(lo..).unwrap_or(&[]) {
            let port = u32::from(port);
            if port > end {
                break;
            }
            let x0 = x_of(port);
            let x1 = x_of(port + 1).max(x0 + 2.0);
            run = match run {
                Some((a, b)) if x0 <= b + 0.5 => Some((a, b.max(x1))),
                Some(done) => {
                    runs.push(done);
                    Some((x0, x1))
                }
                None => Some((x0, x1)),
            };
        }
        runs.extend(run);
        for (a, b) in runs {
            let _ = writeln!(
                out,
                "<rect x=\"{a:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"20\" fill=\"{OCCUPIED}\"/>",
                y + 6.0,
                b - a
            );
        }
        // Where the sub-ranges begin and end: thin ticks under the bar.
        for (start_x, end_x) in children
            .get(i)
            .into_iter()
            .flatten()
            .map(|&(a, b)| (x_of(a), x_of(b + 1)))
        {
            let _ = writeln!(
                out,
                "<path d=\"M{start_x:.1} {:.1}v6M{end_x:.1} {:.1}v6M{start_x:.1} {:.1}H{end_x:.1}\" stroke=\"#555555\" stroke-width=\"1\" fill=\"none\"/>",
                y + 27.0,
                y + 27.0,
                y + 33.0
            );
        }
        let (stroke, width) = if protected.get(i).copied().unwrap_or(false) {
            (PROTECTED, 2.5)
        } else {
            ("#555555", 1.0)
        };
        let _ = writeln!(
            out,
            "<rect x=\"{BAR_X}\" y=\"{:.1}\" width=\"{BAR_W}\" height=\"20\" fill=\"none\" stroke=\"{stroke}\" stroke-width=\"{width}\"/>",
            y + 6.0
        );
        let o = occ.get(i).copied().unwrap_or_default();
        let _ = writeln!(
            out,
            "<text x=\"{:.1}\" y=\"{:.1}\" font-size=\"12\">{} used · {} free</text>",
            BAR_X + BAR_W + 12.0,
            y + 21.0,
            o.assigned,
            o.free
        );
    }
    let legend_y = TOP + ROW_H * rows.max(1) as f64 + 20.0;
    if convention.ranges.len() > rows {
        let _ = writeln!(
            out,
            "<text x=\"16\" y=\"{:.1}\">… and {} more ranges (see the table)</text>",
            legend_y - 8.0,
            convention.ranges.len() - rows
        );
    }
    let items = [
        (OCCUPIED, "none", "occupied (assigned)"),
        (FREE, "none", "free"),
        ("url(#hatch)", "none", "reserved"),
        ("#ffffff", PROTECTED, "protected (red outline)"),
    ];
    let mut x = 16.0;
    for (fill, stroke, label) in items {
        let _ = writeln!(
            out,
            "<rect x=\"{x:.1}\" y=\"{:.1}\" width=\"18\" height=\"14\" fill=\"{fill}\" stroke=\"{}\" stroke-width=\"2\"/><text x=\"{:.1}\" y=\"{:.1}\">{label}</text>",
            legend_y + 10.0,
            if stroke == "none" { "#555555" } else { stroke },
            x + 24.0,
            legend_y + 22.0
        );
        x += 60.0 + label.len() as f64 * 7.0;
    }
    let _ = writeln!(
        out,
        "<text x=\"16\" y=\"{:.1}\" font-size=\"11\" fill=\"#444444\">Each bar is scaled to its own range. Generated by port-convention render.</text>",
        legend_y + 44.0
    );
    out.push_str("</svg>\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_xml_escaped() {
        let c = Convention::from_yaml(
            "ports.yaml",
            "version: 1.0.0\nname: \"a<b>&'\\\"\"\nranges:\n  \"<r>\": { ports: 7000-7001 }\n",
        )
        .unwrap();
        let text = svg(&c);
        assert!(text.contains("a&lt;b&gt;&amp;&apos;&quot;"), "{text}");
        assert!(text.contains("&lt;r&gt;"), "{text}");
        assert!(!text.contains("<r>"));
    }

    #[test]
    fn a_full_range_is_one_run_and_output_is_bounded() {
        let mut yaml = String::from(
            "version: 1.0.0\nranges:\n  all: { ports: 1024-65535 }\nservices:\n  s:\n    ports:\n",
        );
        for p in 1024..9024u32 {
            yaml.push_str(&format!("      p{p}: {{ port: {p} }}\n"));
        }
        let c = Convention::from_yaml("ports.yaml", &yaml).unwrap();
        let text = svg(&c);
        assert!(text.len() < 20_000, "{}", text.len());
        assert_eq!(text.matches(OCCUPIED).count(), 2, "one run plus the legend");
    }
}
