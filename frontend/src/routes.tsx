/**
 * The app's client-side routes. Each screen is a module under pages/ and is lazy-loaded, so new screens
 * (runs, versions, triggers, usage…) are added here without touching the editor.
 */
import { lazy, Suspense, type ReactNode } from "react";
import { Navigate, Route, Routes } from "react-router-dom";
import { AppShell } from "./shell/AppShell";
import { Loading } from "./components/States";

const WorkflowsPage = lazy(() => import("./pages/WorkflowsPage"));
const SettingsLayout = lazy(() => import("./pages/settings/SettingsLayout"));
const MembersPage = lazy(() => import("./pages/settings/MembersPage"));
const TokensPage = lazy(() => import("./pages/settings/TokensPage"));
const SecretsPage = lazy(() => import("./pages/settings/SecretsPage"));
const NotFoundPage = lazy(() => import("./pages/NotFoundPage"));
// Screens around the canvas (issue 6).
const WorkflowRoute = lazy(() => import("./pages/workflow/WorkflowRoute"));
const RunsPage = lazy(() => import("./pages/runs/RunsPage"));
const RunDetailPage = lazy(() => import("./pages/runs/RunDetailPage"));
const VersionsPage = lazy(() => import("./pages/versions/VersionsPage"));
const TriggersPage = lazy(() => import("./pages/triggers/TriggersPage"));
const DeployPage = lazy(() => import("./pages/deploy/DeployPage"));
const EvalsPage = lazy(() => import("./pages/evals/EvalsPage"));
const UsagePage = lazy(() => import("./pages/usage/UsagePage"));
const AuditPage = lazy(() => import("./pages/audit/AuditPage"));
const InvitationsPage = lazy(() => import("./pages/settings/InvitationsPage"));
const ProvidersPage = lazy(() => import("./pages/settings/ProvidersPage"));
const BudgetsPage = lazy(() => import("./pages/settings/BudgetsPage"));
const McpServersPage = lazy(() => import("./pages/settings/McpServersPage"));
const KnowledgePage = lazy(() => import("./pages/knowledge/KnowledgePage"));

const page = (el: ReactNode) => <Suspense fallback={<Loading label="Loading page" />}>{el}</Suspense>;

/** Top navigation entries (the shell renders them); add a screen here and in the routes below. */
export const NAV_ITEMS: { to: string; label: string }[] = [
  { to: "/workflows", label: "Workflows" },
  { to: "/runs", label: "Runs" },
  { to: "/knowledge", label: "Knowledge" },
  { to: "/usage", label: "Usage" },
  { to: "/audit", label: "Audit log" },
  { to: "/settings/members", label: "Settings" },
];

export function AppRoutes() {
  return (
    <Routes>
      {/* Editors get the canvas editor; viewers the read-only view (pages/workflow/WorkflowRoute). */}
      <Route path="/workflows/:workflowId" element={page(<WorkflowRoute />)} />
      <Route element={<AppShell nav={NAV_ITEMS} />}>
        <Route index element={<Navigate to="/workflows" replace />} />
        <Route path="/workflows" element={page(<WorkflowsPage />)} />
        <Route path="/workflows/:workflowId/runs" element={page(<RunsPage />)} />
        <Route path="/workflows/:workflowId/versions" element={page(<VersionsPage />)} />
        <Route path="/workflows/:workflowId/triggers" element={page(<TriggersPage />)} />
        <Route path="/workflows/:workflowId/deploy" element={page(<DeployPage />)} />
        <Route path="/workflows/:workflowId/evals" element={page(<EvalsPage />)} />
        <Route path="/runs" element={page(<RunsPage />)} />
        <Route path="/runs/:runId" element={page(<RunDetailPage />)} />
        <Route path="/knowledge" element={page(<KnowledgePage />)} />
        <Route path="/usage" element={page(<UsagePage />)} />
        <Route path="/audit" element={page(<AuditPage />)} />
        <Route path="/settings" element={page(<SettingsLayout />)}>
          <Route index element={<Navigate to="members" replace />} />
          <Route path="members" element={page(<MembersPage />)} />
          <Route path="tokens" element={page(<TokensPage />)} />
          <Route path="secrets" element={page(<SecretsPage />)} />
          <Route path="invitations" element={page(<InvitationsPage />)} />
          <Route path="providers" element={page(<ProvidersPage />)} />
          <Route path="budgets" element={page(<BudgetsPage />)} />
          <Route path="mcp-servers" element={page(<McpServersPage />)} />
        </Route>
        <Route path="*" element={page(<NotFoundPage />)} />
      </Route>
    </Routes>
  );
}
