/** The workspace picker in the top bar of the shell and of the editor. */
import { useNavigate } from "react-router-dom";
import { useWorkspace } from "./workspace";

/** `leaveTo`: where to go after switching (a workflow of one workspace does not exist in another). */
export function WorkspaceSwitcher({ leaveTo }: { leaveTo?: string }) {
  const { workspaces, current, select } = useWorkspace();
  const navigate = useNavigate();
  if (!workspaces.length) return null;
  return (
    <label className="ws-switcher">
      <span className="sr-only">Workspace</span>
      <select aria-label="Workspace" value={current?.slug ?? ""} onChange={(e) => {
          if (leaveTo) navigate(leaveTo);
          select(e.target.value);
        }}>
        {workspaces.map((w) => (
          <option key={w.slug} value={w.slug}>
            {w.name}
          </option>
        ))}
      </select>
    </label>
  );
}
