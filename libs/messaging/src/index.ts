export { EmbeddedBroker, type EmbeddedBrokerOptions, type BrokerRefusal } from './embedded-broker';
export { MqttConnection, NO_MATCHING_SUBSCRIBERS, redactUrl, type MqttConnectionOptions } from './mqtt-connection';
export { EventBus, EVENT_BUS_CLIENT, type InternalEventMap } from './event-bus';
export { BrokerHealthIndicator } from './broker.health';
export { MessagingModule, eventTransportOptions, clientId, type MessagingOptions } from './messaging.module';
