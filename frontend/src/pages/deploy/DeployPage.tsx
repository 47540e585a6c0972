/**
 * Chat deployments of a workflow (the "Deploy" tab): create one, see its public URL and embed snippet, turn it
 * off or on, delete it, and read its conversations (each answer links to its run).
 */
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { Link, useParams } from "react-router-dom";
import {
  createDeployment,
  deleteDeployment,
  getConversation,
  listConversations,
  listDeployments,
  updateDeployment,
  type ChatAccess,
  type ChatDeployment,
} from "../../api/chat";
import { errorMessage } from "../../api/client";
import { getWorkflow } from "../../api/workflows";
import { Empty, ErrorState, ListStates, Loading } from "../../components/States";
import { useCreateForm } from "../../components/useCreateForm";
import { useCan } from "../common/roles";
import { relativeTime } from "../common/status";
import { WorkflowScreen } from "../common/WorkflowTabs";
import "../screens.css";
import { CopyField } from "../../components/CopyField";

const lines = (text: string) =>
  text
    .split("\n")
    .map((l) => l.trim())
    .filter(Boolean);

const NEW_CHAT = { title: "", greeting: "", starters: "", origins: "" };

export default function DeployPage() {
  const { workflowId } = useParams();
  const wf = workflowId!;
  const canEdit = useCan("editor");
  const qc = useQueryClient();
  const workflow = useQuery({ queryKey: ["workflow", wf], queryFn: () => getWorkflow(wf) });
  const deployments = useQuery({ queryKey: ["deployments", wf], queryFn: () => listDeployments(wf) });
  const refresh = () => void qc.invalidateQueries({ queryKey: ["deployments", wf] });
  // Who may chat and the colour stay as chosen for the next chat; the texts are cleared.
  const [access, setAccess] = useState<ChatAccess>("public");
  const [color, setColor] = useState("#2563eb");
  const create = useCreateForm(
    NEW_CHAT,
    (f) =>
      createDeployment(wf, {
        title: f.title.trim() || workflow.data?.name || "Chat",
        greeting: f.greeting.trim(),
        starter_prompts: lines(f.starters),
        allowed_origins: lines(f.origins),
        access,
        theme: { color },
      }),
    refresh,
  );
  const published = workflow.data?.published_version ?? null;

  return (
    <WorkflowScreen workflowId={wf} title="Deploy">
      {workflow.data && !published && (
        <p className="notice-warn" role="note">
          A chat runs the <strong>published</strong> version, and this workflow has none yet. Publish it in the{" "}
          <Link to={`/workflows/${wf}`}>editor</Link> first.
        </p>
      )}
      <p className="muted">
        Each chat message starts a run with the input <code>{"{message, history: [{role, content}], thread_id}"}</code>; the
        run's text output, or its <code>reply</code> field, is the answer.
      </p>
      {canEdit && (
        <form className="form deploy-create" onSubmit={create.submit} aria-label="Create a chat deployment">
          <h2>New chat</h2>
          <label>
            Title
            <input value={create.values.title} onChange={(e) => create.set("title", e.target.value)} placeholder={workflow.data?.name ?? "Help desk"} />
          </label>
          <label>
            Greeting
            <input value={create.values.greeting} onChange={(e) => create.set("greeting", e.target.value)} placeholder="Hi! How can I help?" />
          </label>
          <label>
            Starter prompts (one per line)
            <textarea rows={2} value={create.values.starters} onChange={(e) => create.set("starters", e.target.value)} />
          </label>
          <label>
            Who can chat
            <select value={access} onChange={(e) => setAccess(e.target.value as ChatAccess)}>
              <option value="public">Anyone with the link</option>
              <option value="members">Signed-in members of this workspace</option>
            </select>
          </label>
          <label>
            Sites allowed to embed it (one origin per line)
            <textarea rows={2} value={create.values.origins} onChange={(e) => create.set("origins", e.target.value)} placeholder="https://shop.example.com" />
          </label>
          <label>
            Theme colour
            <input type="color" value={color} onChange={(e) => setColor(e.target.value)} />
          </label>
          <button type="submit" className="primary" disabled={create.mutation.isPending || !published}>
            Create chat
          </button>
          {create.mutation.isError && <p className="field-error">{errorMessage(create.mutation.error)}</p>}
        </form>
      )}
      <ListStates
        query={deployments}
        loading="Loading chats"
        empty={
          <Empty title="No chats yet">
            <p>A chat gives this workflow a hosted chat page and a widget for any website.</p>
          </Empty>
        }
      >
        {(items) => items.map((d) => <DeploymentCard key={d.id} workflowId={wf} deployment={d} canEdit={canEdit} onChanged={refresh} />)}
      </ListStates>
    </WorkflowScreen>
  );
}

function DeploymentCard({
  workflowId,
  deployment: d,
  canEdit,
  onChanged,
}: {
  workflowId: string;
  deployment: ChatDeployment;
  canEdit: boolean;
  onChanged: () => void;
}) {
  const [showThreads, setShowThreads] = useState(false);
  const toggle = useMutation({ mutationFn: () => updateDeployment(workflowId, d.id, { enabled: !d.enabled }), onSettled: onChanged });
  const remove = useMutation({ mutationFn: () => deleteDeployment(workflowId, d.id), onSettled: onChanged });
  const error = toggle.error ?? remove.error;
  return (
    <article className="trigger-card" aria-label={`Chat ${d.title}`}>
      <div className="trigger-head">
        <h2>{d.title}</h2>
        <span className={`chip ${d.enabled ? "chip-succeeded" : "chip-disabled"}`}>{d.enabled ? "on" : "off"}</span>
        <span className="muted small-text">{d.access === "public" ? "Anyone with the link" : "Workspace members"}</span>
        <div className="actions">
          <a className="button-link" href={d.url} target="_blank" rel="noreferrer">
            Open chat
          </a>
          {canEdit && (
            <>
              <button type="button" className="small" onClick={() => toggle.mutate()} disabled={toggle.isPending}>
                {d.enabled ? "Turn off" : "Turn on"}
              </button>
              <button
                type="button"
                className="small danger"
                onClick={() => {
                  if (window.confirm(`Delete the chat “${d.title}” and its conversations?`)) remove.mutate();
                }}
                disabled={remove.isPending}
              >
                Delete
              </button>
            </>
          )}
        </div>
      </div>
      <span className="field-label">Chat page URL</span>
      <CopyField value={d.url} label="Chat URL" />
      <span className="field-label">Embed snippet</span>
      <CopyField value={d.embed_snippet} label="Embed snippet" />
      <p className="muted small-text">
        {d.allowed_origins.length
          ? `Embeddable on: ${d.allowed_origins.join(", ")}`
          : "Not embeddable on other sites yet: add their origins to allow the widget there."}
      </p>
      {error && <p className="field-error">{errorMessage(error)}</p>}
      <button type="button" className="small align-start" aria-expanded={showThreads} onClick={() => setShowThreads(!showThreads)}>
        {showThreads ? "Hide conversations" : "Conversations"}
      </button>
      {showThreads && <Conversations workflowId={workflowId} deploymentId={d.id} />}
    </article>
  );
}

function Conversations({ workflowId, deploymentId }: { workflowId: string; deploymentId: string }) {
  const threads = useQuery({
    queryKey: ["conversations", deploymentId],
    queryFn: () => listConversations(workflowId, deploymentId),
    refetchInterval: 5000,
  });
  const [open, setOpen] = useState<string | null>(null);
  if (threads.isLoading) return <Loading label="Loading conversations" />;
  if (threads.isError) return <ErrorState error={threads.error} retry={() => void threads.refetch()} />;
  if (!threads.data?.length) return <p className="muted">No conversations yet.</p>;
  return (
    <div className="conversations">
      <table aria-label="Conversations">
        <thead>
          <tr>
            <th>Conversation</th>
            <th>Messages</th>
            <th>Tokens</th>
            <th>Last message</th>
          </tr>
        </thead>
        <tbody>
          {threads.data.map((t) => (
            <tr key={t.id} className={open === t.id ? "selected" : undefined} onClick={() => setOpen(open === t.id ? null : t.id)}>
              <td>
                <button type="button" className="link-btn">
                  {t.title || "(empty)"}
                </button>
              </td>
              <td>{t.message_count}</td>
              <td>{t.tokens_used}</td>
              <td>{relativeTime(t.updated_at)}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {open && <Transcript workflowId={workflowId} deploymentId={deploymentId} threadId={open} />}
    </div>
  );
}

function Transcript({ workflowId, deploymentId, threadId }: { workflowId: string; deploymentId: string; threadId: string }) {
  const thread = useQuery({
    queryKey: ["conversation", threadId],
    queryFn: () => getConversation(workflowId, deploymentId, threadId),
  });
  if (thread.isLoading) return <Loading label="Loading conversation" />;
  if (thread.isError) return <ErrorState error={thread.error} retry={() => void thread.refetch()} />;
  return (
    <ol className="transcript" aria-label="Conversation">
      {thread.data!.messages.map((m) => (
        <li key={m.id} className={`transcript-${m.role}`}>
          <strong>{m.role === "user" ? "Visitor" : "Answer"}</strong> <span className="pre-wrap">{m.content || `(${m.status})`}</span>
          {m.run_id && (
            <>
              {" "}
              <Link to={`/runs/${m.run_id}`}>run</Link>
            </>
          )}
        </li>
      ))}
    </ol>
  );
}
