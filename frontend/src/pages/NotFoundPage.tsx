import { Link } from "react-router-dom";
import { Empty } from "../components/States";

export default function NotFoundPage() {
  return (
    <Empty title="Page not found">
      <Link to="/workflows">Back to workflows</Link>
    </Empty>
  );
}
