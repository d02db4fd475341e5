import { render, screen, within } from "@testing-library/react";
import { beforeEach, describe, expect, it } from "vitest";
import { useClusterStore } from "../../stores/cluster";
import { GiB, node, storage } from "../../test/fixtures";
import { StoragePanel } from "./StoragePanel";

beforeEach(() => useClusterStore.getState().reset());

describe("StoragePanel", () => {
  it("shows each local pool per node and a shared pool once, with usage and type", () => {
    useClusterStore.getState().setNodes([node("pve1"), node("pve2")]);
    useClusterStore.getState().setStorage([
      storage("local", "pve1", { used: 40 * GiB, total: 100 * GiB }),
      storage("local", "pve2", { status: "unknown" }),
      storage("ceph", "pve1", { type: "rbd", shared: true, used: 3.6 * 1024 * GiB, total: 4 * 1024 * GiB }),
      storage("ceph", "pve2", { type: "rbd", shared: true, used: 3.6 * 1024 * GiB, total: 4 * 1024 * GiB }),
    ]);
    render(<StoragePanel />);
    expect(screen.getAllByRole("listitem")).toHaveLength(3);
    const ceph = screen.getByTestId("storage-row-ceph-pve1");
    expect(ceph).toHaveTextContent("shared");
    expect(ceph).toHaveTextContent("rbd");
    expect(ceph).toHaveTextContent("3.6 / 4.0 TiB");
    expect(within(ceph).getByRole("meter")).toHaveAttribute("data-level", "crit");
    expect(screen.queryByTestId("storage-row-ceph-pve2")).toBeNull();
    expect(screen.getByTestId("storage-row-local-pve1")).toHaveTextContent("40.0 / 100.0 GiB");
    expect(screen.getByTestId("storage-row-local-pve2")).toHaveTextContent("UNKNOWN");
  });
});
