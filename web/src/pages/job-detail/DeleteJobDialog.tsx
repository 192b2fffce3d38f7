import { useState } from 'react';
import { api, enc } from '../../api/client';
import { useAction } from '../../api/use-api';
import { ConfirmDialog } from '../../components/ConfirmDialog';
import { ErrorMessage } from '../../components/ErrorMessage';

interface Props {
  jobId: string;
  status: string;
  open: boolean;
  onClose: () => void;
  onDone: () => void;
}

/** Only a job that has not ended needs (and may use) force (DeleteJob, spec: force for IN_PROGRESS). */
const RUNNING = new Set(['IN_PROGRESS', 'SCHEDULED']);

/** DeleteJob (with force for a job that still runs), after confirmation. */
export function DeleteJobDialog({ jobId, status, open, onClose, onDone }: Props) {
  const [force, setForce] = useState(false);
  const running = RUNNING.has(status);
  const action = useAction(() => api('DELETE', `/jobs/${enc(jobId)}${force && running ? '?force=true' : ''}`));
  const confirm = async (): Promise<void> => {
    if ((await action.run()) !== undefined) onDone();
  };
  return (
    <ConfirmDialog
      open={open}
      title={`Delete job ${jobId}?`}
      confirmLabel="Delete job"
      danger
      busy={action.busy}
      onConfirm={() => void confirm()}
      onCancel={() => {
        action.clear();
        onClose();
      }}
    >
      <p>The job and all its executions are removed for good.</p>
      {running && (
        <label className="check">
          <input type="checkbox" checked={force} onChange={(e) => setForce(e.target.checked)} />
          Force: delete even though the job is {status.replace(/_/g, ' ').toLowerCase()} (devices working on it lose it)
        </label>
      )}
      <ErrorMessage error={action.error} />
    </ConfirmDialog>
  );
}
