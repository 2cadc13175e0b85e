import { Alert, Button, Center, Paper, PasswordInput, Stack, Text, Title } from '@mantine/core';
import { useQuery } from '@tanstack/react-query';
import { createContext, type FormEvent, type ReactNode, useContext, useState, useSyncExternalStore } from 'react';

import { getMe, type UserResponseDto } from './api/generated';
import { getToken, signIn, signOut, signOutNotice, subscribe } from './api/session';

const NEEDS_OPERATOR = 'This console needs a supervisor or admin token; this one has the user role.';

type Operator = UserResponseDto & { role: 'supervisor' | 'admin' };
const OperatorContext = createContext<Operator | null>(null);

/** The signed-in supervisor or admin. */
export function useOperator(): Operator & { isAdmin: boolean } {
  const operator = useContext(OperatorContext);
  if (!operator) throw new Error('useOperator outside the signed-in console');
  return { ...operator, isAdmin: operator.role === 'admin' };
}

/** Shows the sign-in page until a supervisor or admin token is in the tab, then the console. */
export function AuthGate({ children }: { children: ReactNode }) {
  const token = useSyncExternalStore(subscribe, getToken);
  if (!token) return <SignIn />;
  return <SignedIn token={token}>{children}</SignedIn>;
}

function SignedIn({ token, children }: { token: string; children: ReactNode }) {
  const me = useQuery({ queryKey: ['me', token], queryFn: async () => (await getMe({ throwOnError: true })).data });
  if (me.isPending) return <Center h="100vh">Loading…</Center>;
  if (me.isError || !me.data) return <Center h="100vh">Signing out…</Center>;
  if (me.data.role === 'user') {
    signOut(NEEDS_OPERATOR);
    return null;
  }
  return <OperatorContext.Provider value={me.data as Operator}>{children}</OperatorContext.Provider>;
}

function SignIn() {
  const [value, setValue] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const notice = signOutNotice();

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const token = value.trim();
    if (!token) return setError('Paste an access token.');
    setBusy(true);
    setError(null);
    // Checked before it is kept: a refused or user-role token never enters the session.
    const { data, response } = await getMe({ headers: { Authorization: `Bearer ${token}` }, security: [] });
    setBusy(false);
    if (response?.status === 401) return setError('The token was refused (expired, malformed or wrongly signed).');
    if (!data) return setError(`The service answered ${response?.status ?? 'nothing'}.`);
    if (data.role === 'user') return setError(NEEDS_OPERATOR);
    signIn(token);
  };

  return (
    <Center h="100vh" bg="gray.0">
      <Paper component="main" withBorder shadow="sm" p="xl" w={460}>
        <form onSubmit={(event) => void submit(event)}>
          <Stack>
            <Title order={1} size="h2">
              Accounting console
            </Title>
            <Text c="dimmed" size="sm">
              Paste a supervisor or admin access token (a JWT). It is kept for this tab only.
            </Text>
            {notice && !error && <Alert color="yellow">{notice}</Alert>}
            {error && (
              <Alert color="red" role="alert">
                {error}
              </Alert>
            )}
            <PasswordInput
              label="Access token"
              value={value}
              onChange={(event) => setValue(event.currentTarget.value)}
              autoComplete="off"
            />
            <Button type="submit" loading={busy}>
              Sign in
            </Button>
          </Stack>
        </form>
      </Paper>
    </Center>
  );
}
