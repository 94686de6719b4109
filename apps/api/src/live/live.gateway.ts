import { Logger } from '@nestjs/common';
import { WebSocketGateway, WebSocketServer, type OnGatewayConnection, type OnGatewayInit } from '@nestjs/websockets';
import { MachinesRepository } from '@continuum/persistence';
import type { Namespace, Socket } from 'socket.io';
import { AuthService } from '../auth/auth.service';
import { canSeePlant, type Principal } from '../auth/principal';
import {
  TRAINING_ROOM,
  machineRoom,
  plantRoom,
  type ClientEvent,
  type ClientEventMap,
  type RoomReply,
  type RoomRequest,
} from './live.events';

const ID = /^[A-Za-z0-9_.:-]{1,128}$/;

/**
 * socket.io namespace `/live`: the dashboard's live feed. A client authenticates with an API key
 * (`io('/live', { auth: { token } })`, or an `Authorization: Bearer` header) and is refused
 * (`connect_error` "unauthorized") without a valid one. It then `join`s plant or machine rooms
 * (only plants its key may see) and receives the {@link ClientEventMap} events of those rooms.
 * Join and leave are plain acknowledged socket events, outside Nest's HTTP guards and filters.
 */
@WebSocketGateway({ namespace: '/live' })
export class LiveGateway implements OnGatewayInit<Namespace>, OnGatewayConnection<Socket> {
  private readonly logger = new Logger('Live');
  @WebSocketServer() private readonly server!: Namespace;

  constructor(
    private readonly auth: AuthService,
    private readonly machines: MachinesRepository,
  ) {}

  afterInit(nsp: Namespace): void {
    nsp.use((socket, next) => {
      const header = socket.handshake.headers.authorization;
      const raw: unknown = socket.handshake.auth?.token ?? /^Bearer (.+)$/.exec(header ?? '')?.[1];
      const token = typeof raw === 'string' && /^[\x21-\x7e]{1,200}$/.test(raw) ? raw : null;
      if (!token) return next(new Error('unauthorized: an API key is required (auth.token)'));
      this.auth.authenticate(token).then(
        (principal) => {
          if (!principal) {
            this.logger.warn(`refused a /live connection from ${socket.handshake.address}: unknown or revoked API key`);
            return next(new Error('unauthorized: unknown or revoked API key'));
          }
          socket.data.principal = principal;
          next();
        },
        (err: Error) => next(err),
      );
    });
  }

  handleConnection(socket: Socket): void {
    void socket.join(TRAINING_ROOM);
    socket.on('join', (request: RoomRequest, ack?: (reply: RoomReply) => void) => {
      this.room(socket.data.principal, request).then(
        (reply) => {
          if (reply.ok) void socket.join(reply.room);
          if (typeof ack === 'function') ack(reply);
        },
        (err: Error) => typeof ack === 'function' && ack({ ok: false, error: err.message }),
      );
    });
    socket.on('leave', (request: RoomRequest, ack?: (reply: RoomReply) => void) => {
      const room = request?.machineId ? machineRoom(request.machineId) : request?.plantId && plantRoom(request.plantId);
      if (room) void socket.leave(room);
      if (typeof ack === 'function') ack(room ? { ok: true, room } : { ok: false, error: 'plantId or machineId' });
    });
  }

  /** Sends a typed event to the clients in any of the rooms (each client once). */
  clientSend<T extends ClientEvent>(event: T, rooms: string | string[], payload: ClientEventMap[T]): void {
    if (!this.server) return;
    (this.server.to(rooms).emit as (e: string, p: unknown) => boolean)(event, payload);
  }

  /** True when some client is in one of the rooms (so that nobody's data is read for nothing). */
  hasListeners(rooms: readonly string[]): boolean {
    const all = this.server?.adapter.rooms;
    return !!all && rooms.some((r) => (all.get(r)?.size ?? 0) > 0);
  }

  private async room(principal: Principal, request: RoomRequest): Promise<RoomReply> {
    if (request?.machineId !== undefined) {
      if (typeof request.machineId !== 'string' || !ID.test(request.machineId))
        return { ok: false, error: 'machineId must be 1-128 of A-Z a-z 0-9 _ . - :' };
      const machine = await this.machines.findById(request.machineId);
      if (!machine) return { ok: false, error: `machine ${request.machineId} does not exist` };
      if (!canSeePlant(principal, machine.plantId))
        return { ok: false, error: `this API key has no access to plant ${machine.plantId}` };
      return { ok: true, room: machineRoom(machine.id) };
    }
    if (typeof request?.plantId !== 'string' || !ID.test(request.plantId))
      return { ok: false, error: 'join needs a plantId or a machineId' };
    if (!canSeePlant(principal, request.plantId))
      return { ok: false, error: `this API key has no access to plant ${request.plantId}` };
    return { ok: true, room: plantRoom(request.plantId) };
  }
}
