import { useState } from 'react';
import { enc, post } from '../../api/client';
import { useAction } from '../../api/use-api';
import { ConfirmDialog } from '../../components/ConfirmDialog';
import { ErrorMessage } from '../../components/ErrorMessage';
import { Field } from '../../components/Field';

interface Props {
  jobId: string;
  open: boolean;
  onClose: () => void;
  onDone: () => void;
}

const REASON_RULE = 'Use capital letters, digits and _ only, e.g. BAD_IMAGE.';

/** CancelJob's reasonCode rule ([\p{Upper}\p{Digit}_]+, at most 128), said in words. */
export function reasonCodeProblem(code: string): string | undefined {
  if (code === '') return undefined;
  if (code.length > 128) return `At most 128 characters (now ${code.length}).`;
  if (!/^[\p{Lu}\p{Nd}_]+$/u.test(code)) return REASON_RULE;
  return undefined;
}

/** CancelJob with force, reason code and comment, after confirmation. */
export function CancelJobDialog({ jobId, open, onClose, onDone }: Props) {
  const [force, setForce] = useState(false);
  const [reasonCode, setReasonCode] = useState('');
  const [comment, setComment] = useState('');
  const action = useAction(() =>
    post(`/jobs/${enc(jobId)}/cancel`, {
      force,
      ...(reasonCode !== '' && { reasonCode }),
      ...(comment !== '' && { comment }),
    }),
  );
  const local = reasonCodeProblem(reasonCode);
  const confirm = async (): Promise<void> => {
    if (local) return;
    if ((await action.run()) !== undefined) onDone();
  };
  return (
    <ConfirmDialog
      open={open}
      title={`Cancel job ${jobId}?`}
      confirmLabel="Cancel job"
      danger
      busy={action.busy}
      onConfirm={() => void confirm()}
      onCancel={() => {
        action.clear();
        onClose();
      }}
    >
      <p>Queued executions are canceled. Devices already working on it finish, unless you force.</p>
      <label className="check">
        <input type="checkbox" checked={force} onChange={(e) => setForce(e.target.checked)} />
        Force: also cancel executions in progress
      </label>
      <Field
        label="Reason code"
        hint="Capital letters, digits and _ (e.g. BAD_IMAGE)"
        error={local ?? (action.error?.forField('reasonCode') ? REASON_RULE : undefined)}
      >
        {(a) => <input {...a} value={reasonCode} onChange={(e) => setReasonCode(e.target.value)} />}
      </Field>
      <Field label="Comment" error={action.error?.forField('comment')}>
        {(a) => <textarea {...a} rows={3} value={comment} onChange={(e) => setComment(e.target.value)} />}
      </Field>
      <ErrorMessage error={action.error} onlyGeneral />
    </ConfirmDialog>
  );
}
