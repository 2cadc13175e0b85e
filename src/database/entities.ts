import { UserAccount } from '../users/entities/user-account.entity.js';

/** Every entity of the service. Each feature module adds its own here and in its forFeature(). */
export const ENTITIES = [UserAccount];
