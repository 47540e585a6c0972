/** The in-app banner: budgets whose current window crossed the alert threshold or refused a model call. */
import { useQuery } from "@tanstack/react-query";
import { Link } from "react-router-dom";
import { budgetLabel, budgetsNeedingAttention, getBudgets } from "../../api/budgets";
import { useWorkspace } from "../../shell/workspace";
import { attentionText } from "./format";
import "./budgets.css";

export function useBudgets() {
  const { current } = useWorkspace();
  return useQuery({ queryKey: ["budgets", current?.slug], queryFn: getBudgets, enabled: !!current, refetchInterval: 60_000 });
}

export default function BudgetBanner({ link = true }: { link?: boolean }) {
  const budgets = useBudgets();
  const hot = budgetsNeedingAttention(budgets.data?.budgets ?? []);
  if (!hot.length) return null;
  const stopped = hot.some((b) => b.current.exceeded_at);
  return (
    <div className={stopped ? "budget-banner stopped" : "budget-banner"} role="status" aria-label="Budget alert">
      <strong>{stopped ? "Budget reached" : "Budget alert"}</strong>
      <ul>
        {hot.map((b) => (
          <li key={b.id}>{attentionText(b, budgetLabel(b))}</li>
        ))}
      </ul>
      {link && (
        <Link to="/settings/budgets" className="budget-banner-link">
          Budgets settings
        </Link>
      )}
    </div>
  );
}
