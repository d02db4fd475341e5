import { render, screen, waitFor } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { beforeEach, describe, expect, it } from "vitest";
import { useClusterStore } from "../../stores/cluster";
import { node, vm } from "../../test/fixtures";
import { VmList } from "./VmList";

beforeEach(() => useClusterStore.getState().reset());

describe("VmList", () => {
  it("waits for data before the first push", () => {
    render(<VmList />);
    expect(screen.getByText("Awaiting cluster data…")).toBeInTheDocument();
  });

  it("lists guests sorted, with status words, badges and dimmed templates", () => {
    useClusterStore.getState().setNodes([node("pve1")]);
    useClusterStore.getState().setVms([
      vm(300, { status: "stopped", name: "old" }),
      vm(105, { status: "running", type: "lxc", name: "dns" }),
      vm(9000, { status: "stopped", template: true, name: "tmpl" }),
    ]);
    render(<VmList />);
    const rows = screen.getAllByRole("listitem");
    expect(rows.map((r) => r.dataset.testid)).toEqual(["vm-row-105", "vm-row-300", "vm-row-9000"]);
    expect(screen.getByTestId("vm-status-105")).toHaveTextContent(/^running$/);
    expect(screen.getByTestId("vm-status-300")).toHaveTextContent(/^stopped$/);
    expect(screen.getByTestId("vm-row-105")).toHaveTextContent("CT");
    expect(screen.getByTestId("vm-row-300")).toHaveTextContent("VM");
    expect(screen.getByTestId("vm-row-9000")).toHaveTextContent("TEMPLATE");
    expect(screen.getByTestId("vm-row-9000")).toHaveClass("vm-row--template");
  });

  it("filters by text and by VM/CT toggle", async () => {
    useClusterStore.getState().setNodes([node("pve1")]);
    useClusterStore.getState().setVms([vm(100, { name: "web" }), vm(101, { name: "db", type: "lxc" })]);
    render(<VmList />);
    const user = userEvent.setup();
    await user.click(screen.getByTestId("vm-kind-lxc"));
    expect(screen.queryByTestId("vm-row-100")).toBeNull();
    expect(screen.getByTestId("vm-row-101")).toBeInTheDocument();
    await user.click(screen.getByTestId("vm-kind-all"));
    await user.type(screen.getByTestId("vm-filter"), "web");
    await waitFor(() => expect(screen.queryByTestId("vm-row-101")).toBeNull());
    expect(screen.getByTestId("vm-row-100")).toBeInTheDocument();
    await user.clear(screen.getByTestId("vm-filter"));
    await user.type(screen.getByTestId("vm-filter"), "zzz");
    expect(await screen.findByText("No guest matches the filter.")).toBeInTheDocument();
  });
});
