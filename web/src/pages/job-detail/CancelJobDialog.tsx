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
  const confirm = async (): Promise<void> => {
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
        error={action.error?.forField('reasonCode')}
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
