/**
 * The app's client-side routes. Each screen is a module under pages/ and is lazy-loaded, so new screens
 * (runs, versions, triggers, usage…) are added here without touching the editor.
 */
import { lazy, Suspense, type ReactNode } from "react";
import { Navigate, Route, Routes } from "react-router-dom";
import { AppShell } from "./shell/AppShell";
import { Loading } from "./components/States";

const WorkflowsPage = lazy(() => import("./pages/WorkflowsPage"));
const EditorPage = lazy(() => import("./pages/EditorPage"));
const SettingsLayout = lazy(() => import("./pages/settings/SettingsLayout"));
const MembersPage = lazy(() => import("./pages/settings/MembersPage"));
const TokensPage = lazy(() => import("./pages/settings/TokensPage"));
const SecretsPage = lazy(() => import("./pages/settings/SecretsPage"));
const NotFoundPage = lazy(() => import("./pages/NotFoundPage"));

const page = (el: ReactNode) => <Suspense fallback={<Loading label="Loading page" />}>{el}</Suspense>;

/** Top navigation entries (the shell renders them); add a screen here and in the routes below. */
export const NAV_ITEMS: { to: string; label: string }[] = [
  { to: "/workflows", label: "Workflows" },
  { to: "/settings/members", label: "Settings" },
];

export function AppRoutes() {
  return (
    <Routes>
      <Route path="/workflows/:workflowId" element={page(<EditorPage />)} />
      <Route element={<AppShell />}>
        <Route index element={<Navigate to="/workflows" replace />} />
        <Route path="/workflows" element={page(<WorkflowsPage />)} />
        <Route path="/settings" element={page(<SettingsLayout />)}>
          <Route index element={<Navigate to="members" replace />} />
          <Route path="members" element={page(<MembersPage />)} />
          <Route path="tokens" element={page(<TokensPage />)} />
          <Route path="secrets" element={page(<SecretsPage />)} />
        </Route>
        <Route path="*" element={page(<NotFoundPage />)} />
      </Route>
    </Routes>
  );
}
