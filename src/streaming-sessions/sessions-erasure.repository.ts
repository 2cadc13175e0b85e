import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';

import { EMAIL_RE, type ErasedPerson, erasureParams, NAME_RE } from '../common/erasure.js';

/**
 * An erasure's pass over the person's streaming sessions (docs/erasure.md): what a session keeps for
 * the record its settlement writes (`record_extras`) loses the person as the record does (the record
 * of a session settled later carries it): the email anywhere and the username under its name keys in
 * `metadata`, both as whole words in `operation` and in the scope ids. Found through the sessions'
 * index on the user; the counts and credits stay.
 */
@Injectable()
export class SessionsErasureRepository {
  async erase(manager: EntityManager, person: ErasedPerson): Promise<void> {
    await manager.query(
      `WITH own AS (
         SELECT s.session_id, s.user_id, s.record_extras AS old_extras,
                erase_json(s.record_extras - 'operation' - 'scopes', ${EMAIL_RE}, ${NAME_RE}, false)
                || CASE WHEN s.record_extras ? 'operation'
                        THEN jsonb_build_object('operation', erase_json(s.record_extras -> 'operation', ${EMAIL_RE}, ${NAME_RE}, true))
                        ELSE '{}'::jsonb END
                || CASE WHEN s.record_extras ? 'scopes'
                        THEN jsonb_build_object('scopes', erase_json(s.record_extras -> 'scopes', ${EMAIL_RE}, ${NAME_RE}, true))
                        ELSE '{}'::jsonb END AS extras
           FROM streaming_sessions s WHERE s.user_id = $1 AND s.record_extras IS NOT NULL)
       UPDATE streaming_sessions s SET record_extras = o.extras FROM own o
        WHERE s.session_id = o.session_id AND s.user_id = o.user_id AND o.extras IS DISTINCT FROM o.old_extras`,
      erasureParams(person),
    );
  }
}
