import type { Request, Response } from 'express';
import { Router } from 'express';
import { FIELDS, ROUTES } from '@latchkey/shared';
import { EVENT_TAGS, HISTORY_PAGE_SIZE } from '../services/events.js';
import { collectAccountData } from '../services/collect-account-data.js';
import type { Services } from '../services/index.js';
import { PASSWORD_MAX_LENGTH } from '../services/password-rule.js';
import { ACCOUNT_ROUTES } from '../views/account-page.js';
import { ConfirmPasswordPage } from '../views/confirm-password-page.js';
import { describeEvent } from '../views/event-labels.js';
import { MessagePage } from '../views/message-page.js';
import type { RememberedDeviceSummary } from '../views/remembered-device-list.js';
import { HISTORY_ROUTE, HistoryPage, historyHref, historyPageCount } from '../views/security-history.js';
import { formatTime } from '../views/layout.js';
import { describeBrowserAndAddress, END_FIELDS, END_ROUTES, type SessionSummary } from '../views/session-list.js';
import {
  currentUser,
  formSchema,
  handler,
  optionalTextField,
  pageContext,
  parseForm,
  queryValue,
  requestOrigin,
  sendPage,
  streamText,
  textField,
} from './http.js';
// manage.ts imports loadAccountActivity from here: a cycle, but each side calls the other only from a
// request handler, never while the modules load.
import { passwordFrom, renderAccountPage } from './manage.js';
import { deviceCookie, reauthenticate, requireUser } from './session.js';

/** What the account page lists besides the 2FA methods: sessions, remembered devices, the history's page count. */
export interface AccountActivity {
  sessions: SessionSummary[];
  devices: RememberedDeviceSummary[];
  historyPages: number;
}

/** Loads {@link AccountActivity} for the logged-in user of this request. */
export async function loadAccountActivity(res: Response, services: Services): Promise<AccountActivity> {
  const { user, session } = currentUser(res);
  const req = res.req;
  const [sessions, devices, total] = await Promise.all([
    services.sessions.listForUser(user.id),
    services.rememberedDevices.list(user, deviceCookie(req, services)),
    services.events.count(user.id),
  ]);
  // Where each login is in the history, for every session and device in one statement.
  const loginEvents = [...sessions.map((row) => row.event_id), ...devices.map((device) => device.eventId)].filter((id) => id !== null);
  const places = await services.events.placesOf(user.id, loginEvents);
  const hrefFor = (eventId: number | null) => {
    const newer = eventId === null ? undefined : places.get(eventId);
    return eventId === null || newer === undefined ? null : historyHref(eventId, newer);
  };
  return {
    sessions: sessions.map((row) => ({
      id: row.id,
      userAgent: row.user_agent,
      createdAt: row.created_at,
      lastSeenAt: row.last_seen_at,
      current: row.id === session.id,
      historyHref: hrefFor(row.event_id),
      // Read with the list (a join): no statement per session for it.
      address: row.login_ip,
    })),
    devices: devices.map((device) => ({ ...device, historyHref: hrefFor(device.eventId) })),
    historyPages: historyPageCount(total),
  };
}

/** What the confirmation page (`confirmed` below) posts back: the password, and that it was asked. */
const CONFIRMATION_FIELDS = {
  [FIELDS.password]: optionalTextField('your password', PASSWORD_MAX_LENGTH, { keepControlCharacters: true }),
  [END_FIELDS.confirm]: optionalTextField('confirm', 8),
};
/** Row ids are base64url SHA-256 (43 characters); anything longer is not one. */
const END_SESSION_FORM = formSchema({
  [END_FIELDS.session]: textField('which session to end', 64, 'Choose which session to end.'),
  ...CONFIRMATION_FIELDS,
});
const FORGET_ALL_DEVICES_FORM = formSchema(CONFIRMATION_FIELDS);
const FORGET_DEVICE_FORM = formSchema({
  [END_FIELDS.device]: textField('which device to forget', 64, 'Choose which device to forget.'),
  ...CONFIRMATION_FIELDS,
});

/**
 * The security history beyond the account page's first 30 events, and ending one session or
 * forgetting one remembered device. Ending either needs the password unless the user proved who they
 * are in the last 5 minutes (ASVS V3.7.1), like "Log out of all sessions"; without it the answer is a
 * page asking for it, then the same action. Downloading the account's data needs it under the same
 * rule, asked in place on the account page (as "Log out of all sessions").
 */
export function accountActivityRoutes(services: Services): Router {
  const router = Router();
  router.use('/manage', requireUser());

  router.get(
    HISTORY_ROUTE,
    handler(async (req, res) => {
      const { user } = currentUser(res);
      const raw = queryValue(req, 'page') ?? '1';
      // Any positive whole number is a page number (past the last one: 404, as the docs say); anything else is 400.
      const pageNumber = /^[1-9]\d*$/.test(raw) ? Number(raw) : null;
      const total = await services.events.count(user.id);
      const pages = historyPageCount(total);
      if (pageNumber === null || pageNumber > pages) {
        return sendPage(
          res,
          pageNumber === null ? 400 : 404,
          MessagePage({
            page: pageContext(res),
            title: 'No such history page',
            message: `Your security history has ${pages} page${pages === 1 ? '' : 's'}: choose a page from 1 to ${pages}.`,
          }),
        );
      }
      const events = await services.events.list(user.id, { limit: HISTORY_PAGE_SIZE, offset: (pageNumber - 1) * HISTORY_PAGE_SIZE });
      sendPage(res, 200, HistoryPage({ page: pageContext(res), events, pageNumber, pages, total }));
    }),
  );

  /** After the action (or when there was nothing left to do): back to the account page with a notice. */
  const done = async (res: Response, kind: 'success' | 'warning', text: string) => {
    await services.sessions.setFlash(currentUser(res).session.id, { kind, text });
    res.redirect(303, ROUTES.manageAccount);
  };

  /**
   * Re-authentication for one of these actions: true to go ahead; otherwise the confirmation page
   * was sent (a first visit without a password field shows it without an error).
   */
  const confirmed = async (
    req: Request,
    res: Response,
    data: { password: string; confirm: string },
    page: { title: string; message: string; action: string; hidden: Record<string, string>; buttonLabel: string },
  ): Promise<boolean> => {
    const firstAsk = data.confirm === '' && data.password === '';
    if (firstAsk && services.sessions.isRecentlyAuthenticated(currentUser(res).session)) return true;
    if (firstAsk) {
      sendPage(res, 200, ConfirmPasswordPage({ page: pageContext(res), ...page }));
      return false;
    }
    const reauth = await reauthenticate(req, res, services, data.password);
    if (reauth.ok) return true;
    sendPage(res, reauth.status, ConfirmPasswordPage({ page: pageContext(res), ...page, error: reauth.message }));
    return false;
  };

  const badForm = (res: Response, title: string, errors: Record<string, string>) =>
    sendPage(res, 400, MessagePage({ page: pageContext(res), title, message: Object.values(errors)[0] ?? 'Reload the page and try again.' }));

  router.post(
    END_ROUTES.endSession,
    handler(async (req, res) => {
      const form = parseForm(req, END_SESSION_FORM);
      if (!form.ok) return badForm(res, 'Session not ended', form.fieldErrors);
      const { user, session } = currentUser(res);
      const id = form.data[END_FIELDS.session];
      if (id === session.id) {
        return sendPage(
          res,
          400,
          MessagePage({ page: pageContext(res), title: 'Session not ended', message: 'This is the session you are using now: use Log out to end it.' }),
        );
      }
      const target = (await services.sessions.listForUser(user.id)).find((row) => row.id === id);
      if (!target) return done(res, 'warning', 'That session had already ended.');
      // Named as the list names it, with when it started: the browser alone cannot tell two sessions of
      // the same browser type apart, and the user must know which one this password is about to end.
      const named = describeBrowserAndAddress({ userAgent: target.user_agent, address: target.login_ip });
      const go = await confirmed(
        req,
        res,
        { password: form.data[FIELDS.password], confirm: form.data[END_FIELDS.confirm] },
        {
          title: 'End this session?',
          message: `The session of ${named}, started ${formatTime(target.created_at)}, will be logged out at its next request.`,
          action: END_ROUTES.endSession,
          hidden: { [END_FIELDS.session]: id },
          buttonLabel: 'End session',
        },
      );
      if (!go) return;
      // ASVS V3.3.4: the user can see and end their other sessions one by one.
      // The end and its event commit together (services/sessions.ts).
      if (!(await services.sessions.endForUser(user.id, id, requestOrigin(req)))) return done(res, 'warning', 'That session had already ended.');
      // Named as the row was (browser and address): two sessions of one browser type look alike.
      await done(res, 'success', `The session of ${named} was ended.`);
    }),
  );

  router.post(
    ACCOUNT_ROUTES.downloadData,
    handler(async (req, res) => {
      const { user } = currentUser(res);
      // ASVS V8.3.2: the owner can take their data with them. A POST with the form token: a download is
      // recorded in the history, so no other site may start one.
      // ASVS V3.7.1: the file holds every address and browser that used or tried the account, its
      // addresses, sessions and devices, so a stolen session must not walk off with it either: the
      // password unless the user proved who they are in the last 5 minutes, as for the other account
      // actions (GitHub's sudo mode and Google Takeout ask the same before an export). Wrong ones are
      // counted per session and recorded (services/login.ts `reauthenticate`).
      const reauth = await reauthenticate(req, res, services, passwordFrom(req));
      // In place, like every refused form of the account page: the field open, its message next to it
      // and focused, and no file.
      if (!reauth.ok) return renderAccountPage(res, services, reauth.status, { downloadData: { [FIELDS.password]: reauth.message } });
      // Recorded first: a download cut short is still one that began (and the file lists it).
      await services.events.record({ userId: user.id, tag: EVENT_TAGS.dataExported, origin: requestOrigin(req) });
      const download = await collectAccountData(services, user, describeEvent);
      const day = new Date(download.exportedAt).toISOString().slice(0, 10);
      res
        .status(200)
        .set('Cache-Control', 'no-store')
        .set('Content-Disposition', `attachment; filename="latchkey-account-${user.username}-${day}.json"`)
        .type('application/json');
      await streamText(res, download.text);
    }),
  );

  router.post(
    ACCOUNT_ROUTES.forgetDevices,
    handler(async (req, res) => {
      const form = parseForm(req, FORGET_ALL_DEVICES_FORM);
      if (!form.ok) return badForm(res, 'Devices not forgotten', form.fieldErrors);
      const { user } = currentUser(res);
      // Nothing remembered, nothing to do: no epoch bump and no event, so the button cannot fill the history.
      if ((await services.rememberedDevices.list(user)).length === 0) return done(res, 'warning', 'No device was remembered: there was nothing to forget.');
      const go = await confirmed(
        req,
        res,
        { password: form.data[FIELDS.password], confirm: form.data[END_FIELDS.confirm] },
        {
          title: 'Forget all remembered devices?',
          message: 'Every browser that skips the second factor now, this one included, will ask for it again at its next login.',
          action: ACCOUNT_ROUTES.forgetDevices,
          hidden: {},
          buttonLabel: 'Forget all devices',
        },
      );
      if (!go) return;
      await services.rememberedDevices.forgetAll(user, requestOrigin(req));
      await done(res, 'success', 'Every remembered device will ask for a second factor again at the next login.');
    }),
  );

  router.post(
    END_ROUTES.forgetDevice,
    handler(async (req, res) => {
      const form = parseForm(req, FORGET_DEVICE_FORM);
      if (!form.ok) return badForm(res, 'Device not forgotten', form.fieldErrors);
      const { user } = currentUser(res);
      const id = form.data[END_FIELDS.device];
      const target = (await services.rememberedDevices.list(user)).find((device) => device.id === id);
      if (!target) return done(res, 'warning', 'That device was not remembered any more.');
      // Named as the list names it (browser and the address of the login that remembered it), with when it
      // was remembered: two devices of the same browser type look alike, and the user must know which one
      // this password is about to make ask for a second factor again.
      const named = describeBrowserAndAddress(target);
      const go = await confirmed(
        req,
        res,
        { password: form.data[FIELDS.password], confirm: form.data[END_FIELDS.confirm] },
        {
          title: 'Forget this device?',
          message: `${named}, remembered ${formatTime(target.createdAt)}, will ask for a second factor again at its next login.`,
          action: END_ROUTES.forgetDevice,
          hidden: { [END_FIELDS.device]: id },
          buttonLabel: 'Forget device',
        },
      );
      if (!go) return;
      if (!(await services.rememberedDevices.forget(user, id, requestOrigin(req)))) return done(res, 'warning', 'That device was not remembered any more.');
      await done(res, 'success', `${named} is no longer remembered: it will ask for a second factor at its next login.`);
    }),
  );

  return router;
}
