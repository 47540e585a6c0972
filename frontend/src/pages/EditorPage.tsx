/** Route module for /workflows/:workflowId — the canvas editor. */
import { useParams } from "react-router-dom";
import { Editor } from "../editor/Editor";

export default function EditorPage() {
  const { workflowId } = useParams();
  return <Editor key={workflowId} workflowId={workflowId!} />;
}
