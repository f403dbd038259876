'use client';

import { useRouter } from 'next/navigation';
import { useId, useState, type FormEvent } from 'react';
import { browserApi } from '../lib/client';
import { ErrorCallout, fieldErrorUi, useAction, useSubmit } from './FormErrors';

type TeamRole = 'viewer' | 'member' | 'admin';
const TEAM_ROLES: TeamRole[] = ['viewer', 'member', 'admin'];

/** A weight field's value: a positive number, or undefined with the reason in `bad`. */
function weightOf(v: string, bad: Record<string, string>): number | undefined {
  const n = Number(v.trim());
  if (!v.trim() || !Number.isFinite(n) || n <= 0) {
    bad.weight = 'a positive number: a team of weight 2 gets twice the GPUs of a team of weight 1 when both wait';
    return undefined;
  }
  return n;
}

/** Admins: a new team with its fair-share weight. */
export function CreateTeamForm() {
  const uid = useId();
  const router = useRouter();
  const [name, setName] = useState('');
  const [description, setDescription] = useState('');
  const [weight, setWeight] = useState('1');
  const { submitting, setSubmitting, submitError, errors, setErrors, reset, send } = useSubmit();
  const fe = fieldErrorUi(uid, errors);
  const submit = async (ev: FormEvent) => {
    ev.preventDefault();
    reset();
    const bad: Record<string, string> = {};
    if (!name.trim()) bad.name = 'name the team';
    const w = weightOf(weight, bad);
    if (Object.keys(bad).length) {
      setErrors(bad);
      return;
    }
    await send(async () => {
      await browserApi().teams.create.mutate({ name: name.trim(), weight: w!, ...(description.trim() ? { description: description.trim() } : {}) });
      setName('');
      setDescription('');
      setWeight('1');
      setSubmitting(false);
      router.refresh();
    });
  };
  return (
    <form onSubmit={submit} aria-label="Create a team" noValidate>
      <div className="form-grid">
        <div className="field">
          <label htmlFor={`${uid}-name`}>Name</label>
          <input id={`${uid}-name`} value={name} onChange={(e) => setName(e.target.value)} placeholder="long-context" {...fe.input('name')} />
          {fe.message('name')}
        </div>
        <div className="field">
          <label htmlFor={`${uid}-weight`}>Fair-share weight</label>
          <input id={`${uid}-weight`} inputMode="decimal" value={weight} onChange={(e) => setWeight(e.target.value)} {...fe.input('weight')} />
          {fe.message('weight')}
        </div>
        <div className="field">
          <label htmlFor={`${uid}-desc`}>Description (optional)</label>
          <input id={`${uid}-desc`} value={description} onChange={(e) => setDescription(e.target.value)} maxLength={2000} {...fe.input('description')} />
          {fe.message('description')}
        </div>
      </div>
      <ErrorCallout message={submitError} />
      <div className="form-actions"><button type="submit" className="btn" disabled={submitting}>{submitting ? 'Creating…' : 'Create team'}</button></div>
    </form>
  );
}

/** Admins: change a team's fair-share weight. */
export function TeamWeightForm({ teamId, teamName, weight }: { teamId: string; teamName: string; weight: number }) {
  const uid = useId();
  const router = useRouter();
  const [value, setValue] = useState(String(weight));
  const { submitting, setSubmitting, submitError, errors, setErrors, reset, send } = useSubmit();
  const fe = fieldErrorUi(uid, errors);
  const submit = async (ev: FormEvent) => {
    ev.preventDefault();
    reset();
    const bad: Record<string, string> = {};
    const w = weightOf(value, bad);
    if (w === undefined) {
      setErrors(bad);
      return;
    }
    await send(async () => {
      await browserApi().teams.update.mutate({ id: teamId, weight: w });
      setSubmitting(false);
      router.refresh();
    });
  };
  return (
    <form onSubmit={submit} aria-label={`Weight of team ${teamName}`} noValidate className="btn-group">
      <label htmlFor={`${uid}-w`} className="progress-line">Weight</label>
      <input id={`${uid}-w`} inputMode="decimal" value={value} onChange={(e) => setValue(e.target.value)} style={{ width: 80 }} {...fe.input('weight')} />
      <button type="submit" className="btn small secondary" disabled={submitting || value === String(weight)}>Save</button>
      {fe.message('weight')}
      {submitError && !fe.text('weight') && <span className="field-error" role="alert">{submitError}</span>}
    </form>
  );
}

/**
 * Admins of ctxlab or of the team: add someone (or change their role). ctxlab admins pick from the
 * users; a team admin, who cannot list every user, gives the user's id.
 */
export function AddMemberForm({ team, users }: { team: { id: string; name: string }; users: { id: string; name: string; email: string }[] | null }) {
  const uid = useId();
  const router = useRouter();
  const [userId, setUserId] = useState('');
  const [role, setRole] = useState<TeamRole>('member');
  const { submitting, setSubmitting, submitError, errors, setErrors, reset, send } = useSubmit();
  const fe = fieldErrorUi(uid, errors);
  const submit = async (ev: FormEvent) => {
    ev.preventDefault();
    reset();
    if (!userId.trim()) {
      setErrors({ userId: users ? 'pick a person' : "give the person's user id" });
      return;
    }
    await send(async () => {
      await browserApi().teams.setMember.mutate({ team: team.id, userId: userId.trim(), role });
      setUserId('');
      setSubmitting(false);
      router.refresh();
    });
  };
  return (
    <form onSubmit={submit} aria-label={`Add a member to ${team.name}`} noValidate style={{ marginTop: 12 }}>
      <div className="form-grid">
        <div className="field">
          <label htmlFor={`${uid}-user`}>{users ? 'Person' : 'User id'}</label>
          {users ? (
            <select id={`${uid}-user`} value={userId} onChange={(e) => setUserId(e.target.value)} {...fe.input('userId')}>
              <option value="">pick a person…</option>
              {users.map((u) => <option key={u.id} value={u.id}>{u.name} ({u.email})</option>)}
            </select>
          ) : (
            <input id={`${uid}-user`} value={userId} onChange={(e) => setUserId(e.target.value)} className="mono" {...fe.input('userId')} />
          )}
          {fe.message('userId')}
        </div>
        <div className="field">
          <label htmlFor={`${uid}-role`}>Role in the team</label>
          <select id={`${uid}-role`} value={role} onChange={(e) => setRole(e.target.value as TeamRole)} {...fe.input('role')}>
            {TEAM_ROLES.map((r) => <option key={r} value={r}>{r}</option>)}
          </select>
          <span className="hint">members start jobs charged to the team; admins also manage its members and priorities</span>
          {fe.message('role')}
        </div>
      </div>
      <ErrorCallout message={submitError} />
      <div className="form-actions"><button type="submit" className="btn secondary" disabled={submitting}>{submitting ? 'Adding…' : 'Add or update member'}</button></div>
    </form>
  );
}

/** A member's role, changeable in place, and removal — for those who manage the team. */
export function MemberControls({ team, member }: { team: { id: string; name: string }; member: { userId: string; name: string; role: TeamRole } }) {
  const router = useRouter();
  const { error, busy, run } = useAction();
  const setRole = (role: TeamRole) => run(async () => {
    await browserApi().teams.setMember.mutate({ team: team.id, userId: member.userId, role });
    router.refresh();
  });
  const remove = () => run(async () => {
    if (!window.confirm(`Remove ${member.name} from ${team.name}? Their queued jobs stay charged to it.`)) return;
    await browserApi().teams.removeMember.mutate({ team: team.id, userId: member.userId });
    router.refresh();
  });
  return (
    <span className="btn-group">
      <select aria-label={`Role of ${member.name} in ${team.name}`} value={member.role} onChange={(e) => void setRole(e.target.value as TeamRole)} disabled={busy}>
        {TEAM_ROLES.map((r) => <option key={r} value={r}>{r}</option>)}
      </select>
      <button type="button" className="btn small danger" onClick={() => void remove()} disabled={busy} aria-label={`Remove ${member.name} from ${team.name}`}>Remove</button>
      {error && <span className="field-error" role="alert">{error}</span>}
    </span>
  );
}
