import { randomUUID } from 'node:crypto';

import { HttpException, Inject, Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import express, { type Request, type Response, Router } from 'express';

import { accountNamed } from '../accounts/account-ref.js';
import { PayerService } from '../accounts/payer.service.js';
import { ApiKeysService } from '../api-keys/api-keys.service.js';
import { type RecentCaller, RecentKeys } from '../api-keys/recent-keys.js';
import type { AuthUser } from '../auth/roles.js';
import { CLOCK, type Clock } from '../common/clock.js';
import { DomainError } from '../common/errors/domain-error.js';
import { errorText } from '../common/errors/error-text.js';
import { type BudgetScopes, parseScopesHeader } from '../common/validation/budget-scopes.js';
import type { AppConfig } from '../config/app-config.js';
import { APP_CONFIG } from '../config/config.module.js';
import type { GatewayUpstream } from '../config/gateway-config.js';
import type { Condition } from '../database/statement-parts.js';
import { CatalogService } from '../pricing/catalog/catalog.service.js';
import { AUTO_TIER } from '../pricing/dimensions.js';
import { type PricingRuleView, PricingService } from '../pricing/pricing.service.js';
import { SessionNotOpened, StreamingSessionsService } from '../streaming-sessions/streaming-sessions.service.js';
import { CredentialAttempts } from '../throttling/credential-attempts.js';
import { systemResolver } from '../webhooks/webhook-url.js';
import { admissionBounds, AdmissionProblem, type Bounds, requestedTier } from './admission.js';
import { forward } from './forward.js';
import { GatewayMetrics } from './gateway-metrics.js';
import { type GatewayRequest, recordExtras } from './gateway-settlement.js';
import { GatewaySettlements } from './gateway-settlements.js';
import { throttledLookup } from './key-attempts.js';
import { errorBody, GatewayError } from './provider-errors.js';
import { BODY_LIMIT, bodyError, parseBody } from './request-body.js';
import { GATEWAY_ROUTES, type GatewayRoute } from './routes.js';
import { checkUpstreamHosts } from './upstream-hosts.js';
import { UpstreamPools } from './upstream-pools.js';
import { type BoundSplit, boundSplits, heldSplit } from './worst-case.js';

/** The largest request body the gateway reads (images and long contexts), once the caller is known. */
const REQUEST_ID = /^[\w.:-]{1,100}$/;

/** The key an OpenAI SDK sends as a bearer token, an Anthropic SDK as x-api-key. */
function presentedKey(req: Request): string | null {
  const header = req.headers['x-api-key'];
  if (typeof header === 'string' && header !== '') return header;
  const auth = req.headers.authorization;
  const match = typeof auth === 'string' ? /^Bearer\s+(\S+)$/i.exec(auth) : null;
  return match ? match[1] : null;
}

/** What a thrown error answers in the provider's shape; a 5xx says nothing of its cause. */
function asGatewayError(error: unknown): GatewayError {
  if (error instanceof GatewayError) return error;
  if (error instanceof AdmissionProblem) return new GatewayError(400, error.code, error.message);
  if (error instanceof DomainError) {
    const retry = error.details.retryAfter;
    const headers: Record<string, string> = typeof retry === 'number' ? { 'Retry-After': String(retry) } : {};
    return error.status >= 500
      ? new GatewayError(error.status, error.code, 'The service is unavailable; please retry', headers)
      : new GatewayError(error.status, error.code, error.message, headers);
  }
  if (error instanceof HttpException && error.getStatus() === 401)
    return new GatewayError(401, 'UNAUTHORIZED', error.message);
  return new GatewayError(500, 'INTERNAL', 'Internal error');
}

/**
 * The provider APIs under /v1 (docs/gateway.md): a request is authenticated by an API key with the
 * `gateway` scope, refused in its provider's shape before anything goes upstream, admitted by holding
 * its worst case as a streaming session, forwarded unchanged, and settled exactly once from what the
 * upstream reported (GatewaySettlements), the session's expiry standing behind a lost instance.
 */
@Injectable()
export class GatewayService implements OnModuleInit {
  private readonly logger = new Logger('Gateway');

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly keys: ApiKeysService,
    private readonly recent: RecentKeys,
    private readonly sessions: StreamingSessionsService,
    private readonly pricing: PricingService,
    private readonly payers: PayerService,
    private readonly catalog: CatalogService,
    private readonly settlements: GatewaySettlements,
    private readonly metrics: GatewayMetrics,
    private readonly pools: UpstreamPools,
    private readonly attempts: CredentialAttempts,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  get enabled(): boolean {
    return this.config.gateway.upstreams.length > 0;
  }

  /** The upstreams' host names resolve to public addresses only (the webhook rule), or start-up stops. */
  async onModuleInit(): Promise<void> {
    if (!this.enabled || this.config.webhooks.allowPrivateUrls) return;
    const unresolved = await checkUpstreamHosts(this.config.gateway.upstreams, systemResolver);
    if (unresolved.length > 0)
      this.logger.warn({ msg: 'gateway upstream host names that do not resolve yet', upstreams: unresolved });
  }

  /** The Express router mounted at /v1 when upstreams are configured. */
  router(): Router {
    const router = Router();
    const readBody = express.raw({ type: () => true, limit: BODY_LIMIT });
    for (const route of GATEWAY_ROUTES)
      router.post(route.path, (req, res) => void this.handle(route, req, res, readBody));
    router.get('/models', (req, res) => void this.models(req, res));
    return router;
  }

  private requestId(req: Request, res: Response): string {
    const given = req.headers['x-request-id'];
    const id = typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
    res.setHeader('x-request-id', id);
    return id;
  }

  private refuse(res: Response, format: GatewayRoute['format'], error: unknown, requestId: string): void {
    const refusal = asGatewayError(error);
    if (refusal.status >= 500) this.logger.error({ msg: 'gateway request failed', requestId, err: errorText(error) });
    if (res.headersSent) {
      res.end();
      return;
    }
    res.status(refusal.status).set(refusal.headers).json(errorBody(format, refusal));
  }

  private presented(req: Request): string {
    const key = presentedKey(req);
    if (key === null)
      throw new GatewayError(401, 'UNAUTHORIZED', 'An API key is required (Authorization: Bearer or x-api-key)');
    return key;
  }

  private withScope(caller: AuthUser): AuthUser {
    if (!caller.scopes?.includes('gateway'))
      throw new GatewayError(403, 'FORBIDDEN', 'This API key lacks the gateway scope');
    return caller;
  }

  /** The caller, looked up now (GET /v1/models: no statement of its own checks the key). */
  private async caller(req: Request): Promise<AuthUser> {
    const key = this.presented(req);
    return this.withScope(
      await throttledLookup(
        this.attempts,
        req,
        () => this.keys.authenticate(key),
        (caller) => caller,
      ),
    );
  }

  /**
   * A request's caller from its key as read by an earlier request (RecentKeys), with the condition
   * its hold checks; `again`: forgotten and read now, as when that condition failed.
   */
  private async recentCaller(req: Request, again = false): Promise<RecentCaller> {
    const key = this.presented(req);
    if (again) this.recent.forget(key);
    const found = await throttledLookup(
      this.attempts,
      req,
      () => this.recent.authenticate(key),
      (f) => f.caller,
    );
    this.withScope(found.caller);
    return found;
  }

  private upstreamFor(route: GatewayRoute, model: string): GatewayUpstream | undefined {
    return this.config.gateway.upstreams.find(
      (u) => u.format === route.format && u.models.some((pattern) => pattern.test(model)),
    );
  }

  /**
   * The model's rule now, else its catalogue price as one (the route's provider tried first); a rule
   * that names no `contextWindow` takes the catalogue's, the bound of input the body does not contain.
   */
  private async ruleOf(model: string, route: GatewayRoute): Promise<PricingRuleView | undefined> {
    const rule = await this.catalog.ruleNow(model, route.format);
    if (rule === undefined || rule.contextWindow !== null) return rule;
    const contextWindow = await this.catalog.catalogContextWindow(model, route.format);
    return contextWindow === null ? rule : { ...rule, contextWindow };
  }

  private async handle(
    route: GatewayRoute,
    req: Request,
    res: Response,
    readBody: express.RequestHandler,
  ): Promise<void> {
    const requestId = this.requestId(req, res);
    const started = performance.now();
    let request: GatewayRequest | null = null;
    try {
      let { caller, stillValid } = await this.recentCaller(req);
      let at = this.metrics.stage('auth', started);
      // The budget scopes the request counts against (docs/budgets.md); never sent upstream.
      const scopes = parseScopesHeader(req.headers['x-budget-scopes']);
      await new Promise<void>((resolve, reject) =>
        readBody(req, res, (error?: unknown) => (error ? reject(bodyError(error)) : resolve())),
      );
      const body = parseBody(req.body);
      at = this.metrics.stage('body', at);
      const model = body.model as string;
      const upstream = this.upstreamFor(route, model);
      const rule = await this.ruleOf(model, route);
      if (upstream === undefined || rule === undefined) throw modelNotFound(model, route, upstream, rule);
      const bounds = admissionBounds(body, route, rule, this.config.gateway);
      const admit = (who: AuthUser, onlyIf: Condition) =>
        this.admit(who, route, upstream, rule, body, bounds, requestId, at, onlyIf, scopes);
      try {
        request = await admit(caller, stillValid);
      } catch (error) {
        if (!(error instanceof SessionNotOpened)) throw error;
        // The key changed since it was read: read again (refused as any lookup refuses), held once more.
        ({ caller, stillValid } = await this.recentCaller(req, true));
        request = await admit(caller, stillValid).catch((again: unknown) => {
          throw again instanceof SessionNotOpened
            ? new GatewayError(401, 'UNAUTHORIZED', 'The API key changed during the request')
            : again;
        });
      }
      at = performance.now();
      let answeredAt: number | null = null;
      const outcome = await forward(
        request,
        this.pools.of(upstream),
        req,
        res,
        body,
        this.config.gateway,
        (seconds) => {
          this.metrics.upstreamLatency(upstream.name, seconds);
          answeredAt = this.metrics.stage('upstream', at);
        },
      );
      if (answeredAt !== null) this.metrics.stage('passthrough', answeredAt);
      // After the answer's last byte: the client never waits for the settlement (docs/gateway.md).
      const settling = performance.now();
      await this.settlements.settle(caller, request, outcome);
      this.metrics.stage('settlement', settling);
      this.log(request, outcome.status, outcome.reason, started);
    } catch (error) {
      this.refuse(res, route.format, error, requestId);
      this.metrics.request(route.path, res.statusCode, request === null ? 'refused' : 'failed');
    }
  }

  /**
   * Holds the request's worst case as a streaming session (service `gateway`), before the first
   * upstream byte: the input bound at the rule's dearest input kind, the output bound at its dearest
   * output kind, at its dearest tier unless the request names one. Every rule of a metering write
   * (model lists, key budgets, member limits, erasure, the balance) refuses here, and the hold's
   * statement checks the key is still as read (`keyStillValid`), so its lookup needs no statement.
   */
  private async admit(
    caller: AuthUser,
    route: GatewayRoute,
    upstream: GatewayUpstream,
    rule: PricingRuleView,
    body: Record<string, unknown>,
    bounds: Bounds,
    requestId: string,
    since: number,
    keyStillValid: Condition,
    scopes?: BudgetScopes,
  ): Promise<GatewayRequest> {
    const model = rule.modelId;
    const serviceTier = requestedTier(body) ?? AUTO_TIER;
    const account = await this.accountOf(caller);
    const at = new Date(this.clock.now());
    let worst: { credits: number; split: BoundSplit; tier: string | null } | null = null;
    for (const split of boundSplits(bounds)) {
      const dims = { serviceTier, units: bounds.units };
      const quote = await this.pricing.quote(model, split.kinds, at, account, dims, true, route.format);
      if (worst === null || quote.credits > worst.credits)
        worst = { credits: quote.credits, split, tier: quote.serviceTier };
    }
    const sessionId = `gateway-${randomUUID()}`;
    const split = heldSplit(worst!.split);
    const request = {
      requestId,
      sessionId,
      route,
      upstream,
      rule,
      inputBound: bounds.input,
      outputBound: bounds.output,
      held: { split, units: bounds.units, serviceTier: worst!.tier },
    };
    const holding = this.metrics.stage('admission', since);
    // Should this instance die before it settles, the expiry's record still names the request.
    await this.sessions.initialize(
      caller,
      {
        sessionId,
        modelId: model,
        ...split,
        serviceTier,
        ...(bounds.units ? { units: bounds.units } : {}),
        ...(scopes ? { scopes } : {}),
      },
      this.config.gateway.upstreamTimeoutSeconds + 60,
      recordExtras(request, { status: 0, reason: 'expired' }),
      keyStillValid,
    );
    this.metrics.stage('hold', holding);
    return request;
  }

  /**
   * The id of the account the key charges (its org's for a key of a membership, else its owner's), as
   * the payer service resolves it: no statement once this instance knows the account.
   */
  private async accountOf(caller: AuthUser): Promise<string | null> {
    return (await this.payers.accountsOf([accountNamed(caller.orgId ?? null, caller.userId)]))[0];
  }

  private log(request: GatewayRequest, status: number, reason: string, started: number): void {
    this.metrics.request(request.route.path, status, reason);
    this.logger.log({
      msg: 'gateway request',
      requestId: request.requestId,
      route: `/v1${request.route.path}`,
      model: request.rule.modelId,
      upstream: request.upstream.name,
      status,
      reason,
      ms: Math.round(performance.now() - started),
    });
  }

  /** GET /v1/models: the models the caller may use (priced, routed, allowed by its model lists), in OpenAI's list shape. */
  private async models(req: Request, res: Response): Promise<void> {
    const requestId = this.requestId(req, res);
    try {
      const caller = await this.caller(req);
      const account = await this.accountOf(caller);
      const data = [];
      // Every priced model: the rules' and the catalogue's (a rule's model id once, as the rule).
      const priced = (await this.pricing.current()).map((r) => ({
        model: r.modelId,
        from: Date.parse(r.effectiveFrom),
      }));
      const ruled = new Set(priced.map((p) => p.model));
      priced.push(...(await this.catalog.pricedModels()).filter((p) => !ruled.has(p.model)));
      for (const { model, from } of priced) {
        const upstream = this.config.gateway.upstreams.find((u) => u.models.some((p) => p.test(model)));
        if (upstream === undefined || !(await this.pricing.entitled(model, account, [caller.models ?? null]))) continue;
        data.push({ id: model, object: 'model', created: Math.floor(from / 1000), owned_by: upstream.name });
      }
      res.json({ object: 'list', data });
    } catch (error) {
      this.refuse(res, 'openai', error, requestId);
    }
  }
}

/** MODEL_NOT_FOUND, saying what is missing: an upstream that routes the model, its price, or both. */
function modelNotFound(
  model: string,
  route: GatewayRoute,
  upstream: GatewayUpstream | undefined,
  rule: PricingRuleView | undefined,
): GatewayError {
  const missing = [
    ...(upstream === undefined ? [`no ${route.format} upstream routes it (GATEWAY_UPSTREAMS models)`] : []),
    ...(rule === undefined ? ['it has no price (no pricing rule, no price catalogue entry)'] : []),
  ];
  return new GatewayError(
    404,
    'MODEL_NOT_FOUND',
    `The model ${model} is not available through this gateway: ${missing.join('; and ')}`,
  );
}
