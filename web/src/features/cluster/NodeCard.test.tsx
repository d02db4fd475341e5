import { render, screen, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it } from "vitest";
import { GiB, node } from "../../test/fixtures";
import { NodeCard } from "./NodeCard";

describe("NodeCard", () => {
  it("shows name, ip, CPU percent, uptime and bars with their levels", () => {
    render(<NodeCard node={node("pve1", { ip: "10.0.0.11", cpu: 0.934, mem: 24 * GiB, maxmem: 32 * GiB })} />);
    const card = screen.getByTestId("node-card-pve1");
    expect(card).toHaveTextContent("pve1");
    expect(card).toHaveTextContent("10.0.0.11");
    expect(screen.getByTestId("node-cpu-pve1")).toHaveTextContent("93.4%");
    expect(card).toHaveTextContent("up 3d 4h 12m");
    expect(card).toHaveTextContent("24.0 / 32.0 GiB");
    const [cpuBar, ramBar] = within(card).getAllByRole("meter");
    expect(cpuBar).toHaveAttribute("aria-valuenow", "93");
    expect(cpuBar).toHaveAttribute("data-level", "crit");
    expect(ramBar).toHaveAttribute("aria-valuenow", "75");
    expect(ramBar).toHaveAttribute("data-level", "warn");
  });

  it("colours the headline temperature: orange above 65, red above 80", () => {
    const { rerender } = render(<NodeCard node={node("pve1", { temperatures: { x86_pkg_temp: 70.2 } })} />);
    expect(screen.getByTestId("node-temp-pve1")).toHaveTextContent("70°C");
    expect(screen.getByTestId("node-temp-pve1")).toHaveClass("level-warn");
    rerender(<NodeCard node={node("pve1", { temperatures: { x86_pkg_temp: 70.2 } })} zones={{ x86_pkg_temp: 85 }} />);
    expect(screen.getByTestId("node-temp-pve1")).toHaveTextContent("85°C");
    expect(screen.getByTestId("node-temp-pve1")).toHaveClass("level-crit");
    rerender(<NodeCard node={node("pve1")} zones={{ x86_pkg_temp: 45 }} />);
    expect(screen.getByTestId("node-temp-pve1")).toHaveClass("level-ok");
  });

  it("has no temperature without readings (no crash on a node without sensors)", () => {
    render(<NodeCard node={node("pve1")} />);
    expect(screen.queryByTestId("node-temp-pve1")).toBeNull();
  });

  it("expands on click to every temperature zone and the long uptime", async () => {
    render(<NodeCard node={node("pve1", { temperatures: { acpitz: 41.5, x86_pkg_temp: 66, nvme: 82.1 } })} />);
    expect(screen.queryByTestId("node-temps-pve1")).toBeNull();
    await userEvent.click(screen.getByRole("button", { expanded: false }));
    const temps = screen.getByTestId("node-temps-pve1");
    expect(temps).toHaveTextContent("acpitz");
    expect(temps).toHaveTextContent("41.5°C");
    expect(temps).toHaveTextContent("nvme");
    expect(within(temps).getByText("82.1°C")).toHaveClass("level-crit");
    expect(screen.getByTestId("node-card-pve1")).toHaveTextContent("3 days 4 hours 12 minutes");
    expect(screen.getByRole("button", { expanded: true })).toBeInTheDocument();
  });

  it("marks an offline node and does not show a CPU figure for it", () => {
    render(<NodeCard node={node("pve4", { status: "offline", cpu: 0, uptime: 0 })} />);
    expect(screen.getByTestId("node-card-pve4")).toHaveTextContent("OFFLINE");
    expect(screen.getByTestId("node-cpu-pve4")).toHaveTextContent("—");
    expect(screen.getByTestId("node-card-pve4")).toHaveTextContent("not responding");
  });
});
